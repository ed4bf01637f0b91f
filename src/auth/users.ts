import { type Static, Type } from "@sinclair/typebox";
import { count, eq } from "drizzle-orm";
import type { Db, Tx } from "../infra/db.ts";
import { AppError, invalid } from "../infra/errors.ts";
import { newId } from "../infra/ids.ts";
import { requiredText } from "../infra/input.ts";
import { type Actor, assertAdmin } from "./actor.ts";
import { type Role, users } from "./tables.ts";
import type { User } from "./user.ts";

/** Lowercase, because usernames become part of branch names (pier/<username>/<id>). */
const USERNAME = /^[a-z0-9][a-z0-9_-]{1,31}$/;
const MIN_PASSWORD = 8;
const MAX_PASSWORD = 256;

/**
 * The password hash of a person who has no password (made by a single sign-on): no password
 * matches it. The column stays NOT NULL: making it nullable rebuilds the users table, and dropping
 * that table inside a migration (one transaction, where foreign keys cannot be turned off) would
 * delete every row that refers to a person.
 */
export const NO_PASSWORD = "";

export function publicUser(user: User) {
  return { id: user.id, username: user.username, role: user.role, createdAt: user.createdAt.toISOString() };
}

export function countUsers(db: Db): number {
  const [row] = db.select({ n: count() }).from(users).all();
  return row?.n ?? 0;
}

export function hasAnyUser(db: Db): boolean {
  return countUsers(db) > 0;
}

/** A username and a password: what signing in and first-run setup take. */
export const CredentialsInput = Type.Object({ username: requiredText("Username"), password: requiredText("Password") });
export type CredentialsInput = Static<typeof CredentialsInput>;

/** What an admin gives to add a person (a member unless said otherwise). */
export const NewUserInput = Type.Composite([
  CredentialsInput,
  Type.Object({ role: Type.Optional(Type.String({ title: "Role", enum: ["admin", "member"], error: "Role must be admin or member." })) }),
]);
export type NewUserInput = Static<typeof NewUserInput>;

function validateNewUser(input: NewUserInput): { username: string; password: string; role: Role } {
  const { username, password } = input;
  if (!USERNAME.test(username)) {
    throw invalid("username", "Username must be 2–32 characters: lowercase letters, digits, - or _, starting with a letter or digit.");
  }
  if (password.length < MIN_PASSWORD) throw invalid("password", `Password must be at least ${MIN_PASSWORD} characters.`);
  if (password.length > MAX_PASSWORD) throw invalid("password", `Password must be at most ${MAX_PASSWORD} characters.`);
  const role = input.role ?? "member";
  if (role !== "admin" && role !== "member") throw invalid("role", "Role must be admin or member.");
  return { username, password, role };
}

/** First-run setup: creates the admin, and only while no user exists at all (so there is no actor yet). */
export async function createFirstAdmin(db: Db, input: CredentialsInput): Promise<User> {
  const { username, password } = validateNewUser({ ...input, role: "admin" });
  const passwordHash = await Bun.password.hash(password, "argon2id");
  return db.transaction((tx) => {
    const [row] = tx.select({ n: count() }).from(users).all();
    if ((row?.n ?? 0) > 0) throw new AppError(409, "already_set_up", "Pier is already set up; sign in instead.");
    return insertUser(tx, username, passwordHash, "admin");
  });
}

/** An admin adds a person. */
export async function createUser(db: Db, actor: Actor, input: NewUserInput): Promise<User> {
  assertAdmin(actor);
  const { username, password, role } = validateNewUser(input);
  const passwordHash = await Bun.password.hash(password, "argon2id");
  return db.transaction((tx) => {
    const taken = tx.select({ id: users.id }).from(users).where(eq(users.username, username)).get();
    if (taken) throw new AppError(409, "username_taken", `The username "${username}" is already taken.`, "username");
    return insertUser(tx, username, passwordHash, role);
  });
}

/** Whether `name` may be a username (what a provider's claim must come to). */
export function isUsername(name: string): boolean {
  return USERNAME.test(name);
}

/** A person who signs in only through an identity provider, inside the caller's transaction; null when the username is taken. */
export function insertPasswordlessUser(tx: Tx, username: string, role: Role): User | null {
  if (!isUsername(username)) throw new Error(`"${username}" is not a username.`);
  if (tx.select({ id: users.id }).from(users).where(eq(users.username, username)).get()) return null;
  return insertUser(tx, username, NO_PASSWORD, role);
}

function insertUser(db: Db | Tx, username: string, passwordHash: string, role: Role): User {
  const user = { id: newId(), username, role, createdAt: new Date() };
  db.insert(users).values({ ...user, passwordHash }).run();
  return user;
}

/** Everyone, for an admin. */
export function listUsers(db: Db, actor: Actor): User[] {
  assertAdmin(actor);
  return db
    .select({ id: users.id, username: users.username, role: users.role, createdAt: users.createdAt })
    .from(users)
    .orderBy(users.username)
    .all();
}

export function findUser(db: Db, id: string): User | null {
  return (
    db
      .select({ id: users.id, username: users.username, role: users.role, createdAt: users.createdAt })
      .from(users)
      .where(eq(users.id, id))
      .get() ?? null
  );
}

/** The person with this username, or null. */
export function findUserByUsername(db: Db, username: string): User | null {
  return (
    db
      .select({ id: users.id, username: users.username, role: users.role, createdAt: users.createdAt })
      .from(users)
      .where(eq(users.username, username))
      .get() ?? null
  );
}

// Verifying against this hash when the username is unknown keeps the timing of both failures
// alike. Made on first need: argon2id takes ~64 MiB and a noticeable moment, which start-up should not pay.
let dummyHash: Promise<string> | undefined;
const timingEqualiser = () => (dummyHash ??= Bun.password.hash("pier-timing-equaliser", "argon2id"));

/** The user when the password matches, else null (always for a person without a password). */
export async function verifyCredentials(db: Db, username: string, password: string): Promise<User | null> {
  const row = db.select().from(users).where(eq(users.username, username)).get();
  const hasPassword = row !== undefined && row.passwordHash !== NO_PASSWORD;
  const ok = await Bun.password.verify(password, hasPassword ? row.passwordHash : await timingEqualiser());
  if (!hasPassword || !ok) return null;
  return { id: row.id, username: row.username, role: row.role, createdAt: row.createdAt };
}

/** Every person's id, for work Pier does for each on its own (warming each person's pod of a repo). */
export function everyUserId(db: Db): string[] {
  return db.select({ id: users.id }).from(users).all().map((row) => row.id);
}
