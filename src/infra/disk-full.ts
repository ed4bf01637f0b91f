import { AppError } from "./errors.ts";

/**
 * A write refused because the disk (or the person's quota) is full: SQLite says SQLITE_FULL, the
 * file system ENOSPC or EDQUOT. Nothing is half-written then (SQLite rolls the statement back),
 * and the same write works again once space is freed, so it is a sentence for the person, not a
 * crash or a 500.
 */
export function isDiskFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "SQLITE_FULL" || code === "ENOSPC" || code === "EDQUOT";
}

export const insufficientStorage = () =>
  new AppError(507, "insufficient_storage", "The server's disk is full, so nothing was saved; try again once an administrator has freed some space.");
