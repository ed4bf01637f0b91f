import type { AuditLog } from "../audit/audit-log.ts";
import type { Db } from "../infra/db.ts";
import type { Actor } from "./actor.ts";
import type { User } from "./user.ts";
import { type CredentialsInput, type NewUserInput, createFirstAdmin, createUser, findUser, listUsers } from "./users.ts";

/** The people's door for the web layer: the user functions, bound to the database; each person added goes in the audit log. */
export class Users {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
  ) {}

  /** First-run setup, by whoever reached it first (at `address`): the entry names the admin they made as its actor. */
  async createFirstAdmin(input: CredentialsInput, address: string | null): Promise<User> {
    const user = await createFirstAdmin(this.db, input);
    this.audit.record({ kind: "person", id: user.id, name: user.username }, "user_created", userTarget(user), { detail: "admin, at first-run setup", address });
    return user;
  }

  async create(actor: Actor, input: NewUserInput): Promise<User> {
    const user = await createUser(this.db, actor, input);
    this.audit.record(actor, "user_created", userTarget(user), { detail: user.role });
    return user;
  }

  list(actor: Actor): User[] {
    return listUsers(this.db, actor);
  }

  find(id: string): User | null {
    return findUser(this.db, id);
  }
}

function userTarget(user: User) {
  return { kind: "user", id: user.id, name: user.username };
}
