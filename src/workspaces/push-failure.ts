import { AppError } from "../infra/errors.ts";
import type { ExecResult } from "../runtime/runtime.ts";
import { forPerson, saysWhy } from "./pod-script.ts";

/**
 * Why `git push --porcelain` failed, as an error for the person, in git's own words:
 * - 409 `push_rejected` when the remote has commits the branch lacks (git's `[rejected]`:
 *   non-fast-forward, fetch first): the person can bring them in and push again;
 * - 502 `push_failed` when the remote or the way to it refused (authentication, a protected
 *   branch or a hook, `[remote rejected]`, an address that does not answer);
 * - 504 `push_timed_out` when it took too long.
 * A refused ref is reported by its porcelain line (`!<tab>from:to<tab>[rejected] (why)`), with
 * the remote's last `remote:` line when it said more; otherwise git's `fatal:` line or its last.
 */
export function pushFailure(branch: string, result: ExecResult): AppError {
  if (result.timedOut) return new AppError(504, "push_timed_out", `Pushing ${branch} took too long and was stopped.`);
  const refused = result.stdout
    .split("\n")
    .filter((line) => line.startsWith("!\t"))
    .map((line) => forPerson(line.split("\t")[2] ?? ""))
    .find(Boolean);
  if (refused?.startsWith("[rejected]")) {
    return new AppError(409, "push_rejected", `Pushing ${branch} was refused: the remote has commits the branch does not have (git: ${refused}); bring them into the session's branch and try again.`);
  }
  const remoteSaid = result.stderr
    .split("\n")
    .filter((line) => line.startsWith("remote:"))
    .map((line) => forPerson(line.slice("remote:".length)))
    .filter(Boolean)
    .at(-1);
  const why = refused ? (remoteSaid ? `${refused}, remote: ${remoteSaid}` : refused) : saysWhy(result.stderr) || `exit code ${result.exitCode}`;
  return new AppError(502, "push_failed", `Pushing ${branch} failed: ${why}`);
}
