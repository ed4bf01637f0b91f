import type { Db } from "../infra/db.ts";
import type { Actor } from "./actor.ts";
import type { User } from "./user.ts";
import { type CredentialsInput, type NewUserInput, createFirstAdmin, createUser, findUser, listUsers } from "./users.ts";

/** The people's door for the web layer: the user functions, bound to the database. */
export class Users {
  constructor(private readonly db: Db) {}

  createFirstAdmin(input: CredentialsInput): Promise<User> {
    return createFirstAdmin(this.db, input);
  }

  create(actor: Actor, input: NewUserInput): Promise<User> {
    return createUser(this.db, actor, input);
  }

  list(actor: Actor): User[] {
    return listUsers(this.db, actor);
  }

  find(id: string): User | null {
    return findUser(this.db, id);
  }
}
