import type { Role } from "./tables.ts";

/** A person of this Pier as the code passes them around: their row without the password hash. */
export interface User {
  id: string;
  username: string;
  role: Role;
  createdAt: Date;
}
