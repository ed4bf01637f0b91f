import { Type } from "@sinclair/typebox";
import { MAX_COMMAND_OUTPUT_BYTES, truncate } from "./output.ts";
import { defineTool } from "./tool.ts";

const DEFAULT_TIMEOUT_S = 120;
const MAX_TIMEOUT_S = 600;

/**
 * Runs the command through a small wrapper that notes its process id in the pod's /tmp, so an
 * interrupt can stop it (and its children) from outside.
 */
export const bash = defineTool({
  name: "bash",
  description:
    "Run a shell command in the session's worktree, inside the repository's pod, as the pod user. Output (stdout and stderr) is truncated past 30000 characters.",
  input: Type.Object({
    command: Type.String({ description: "The command line, run with bash -lc." }),
    timeout_seconds: Type.Optional(Type.Number({ description: `Stop the command after this long (default ${DEFAULT_TIMEOUT_S}, at most ${MAX_TIMEOUT_S}).` })),
  }),
  async run(ctx, { command, timeout_seconds }) {
    if (!command.trim()) return { output: "A command is required.", isError: true };
    const timeout = Math.min(Math.max(1, timeout_seconds || DEFAULT_TIMEOUT_S), MAX_TIMEOUT_S);
    const pidFile = `/tmp/pier-tool-${crypto.randomUUID()}.pid`;
    const stop = () =>
      void ctx.runtime
        .exec(ctx.pod, ["sh", "-c", `p=$(cat ${pidFile} 2>/dev/null) && pkill -TERM -P "$p"; kill -TERM "$p" 2>/dev/null; rm -f ${pidFile}`], {
          cwd: ctx.files.worktree,
        })
        .catch(() => undefined);
    ctx.signal.addEventListener("abort", stop, { once: true });
    const wrapped = `echo $$ > ${pidFile}; timeout --kill-after=5 ${timeout} bash -lc "$PIER_TOOL_COMMAND"; status=$?; rm -f ${pidFile}; exit $status`;
    const result = await ctx.runtime
      .exec(ctx.pod, ["bash", "-c", wrapped], {
        cwd: ctx.files.worktree,
        env: { ...ctx.env, PIER_TOOL_COMMAND: command },
        timeoutMs: (timeout + 10) * 1000,
        // A command that prints without end (yes) is cut off here rather than filling the server's memory.
        maxOutputBytes: MAX_COMMAND_OUTPUT_BYTES,
      })
      .finally(() => ctx.signal.removeEventListener("abort", stop));
    const output = [result.stdout, result.stderr].filter(Boolean).join(result.stdout && result.stderr ? "\n[stderr]\n" : "");
    const note = result.truncated
      ? `\n[stopped: the command printed more than ${MAX_COMMAND_OUTPUT_BYTES} bytes]`
      : result.exitCode === 124
        ? `\n[stopped after ${timeout} s]`
        : result.exitCode !== 0
          ? `\n[exit code ${result.exitCode}]`
          : "";
    return { output: truncate(output) + note || "(no output)", isError: result.exitCode !== 0 };
  },
});
