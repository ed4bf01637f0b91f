import {
  BoundedOutput,
  DEFAULT_MAX_OUTPUT_BYTES,
  EARLY_STDERR_BYTES,
  type ExecOptions,
  type ExecResult,
  type OrphanPod,
  OutputFanout,
  type Pod,
  type PodProcess,
  type PodSpec,
  type PodStatus,
  type Progress,
  type Runtime,
} from "./runtime.ts";

const LOCAL_POD: Pod = { id: "local", image: "local" };

/**
 * What commands get of the server's own environment: enough to find programs and a home, and
 * none of the server's secrets (ANTHROPIC_API_KEY, GITHUB_TOKEN, PIER_SECRET_KEY).
 */
const PASSED_ENV = ["PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LC_ALL", "LC_CTYPE", "TERM", "TMPDIR", "TZ"];

/** `pathAfter` goes last on PATH (Pier's copy of Claude Code, so the machine's own `claude` wins). */
function commandEnv(extra: Record<string, string> | undefined, pathAfter: string | null): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED_ENV) if (process.env[name] !== undefined) env[name] = process.env[name]!;
  if (pathAfter) env.PATH = env.PATH ? `${env.PATH}:${pathAfter}` : pathAfter;
  return { ...env, ...extra };
}

/**
 * The local runtime: commands run as processes of the server's own user, on the server's machine.
 * There is no container, so there is nothing to start or stop, and sessions are not isolated from
 * the server or from each other: it is for machines without Docker, used by people who trust
 * each other and the repositories they open. It goes through the same interface all the same.
 */
export class LocalRuntime implements Runtime {
  readonly kind = "local";
  readonly fileOwner = null;

  /** `pathAfter`: a directory put last on commands' PATH, when there is one. */
  constructor(private pathAfter: () => string | null = () => null) {}

  async ensurePod(_spec: PodSpec, progress: Progress): Promise<Pod> {
    progress({ step: "pod", message: "Running on this machine (local runtime, no container).", fraction: 1 });
    return LOCAL_POD;
  }

  async inspectPod(): Promise<PodStatus | null> {
    return { ...LOCAL_POD, state: "running" };
  }

  async stopPod(): Promise<void> {}

  async removePod(): Promise<void> {}

  async exec(_pod: Pod, command: string[], options: ExecOptions): Promise<ExecResult> {
    const env = commandEnv(options.env, this.pathAfter());
    if (!Bun.which(command[0]!, { PATH: env.PATH ?? "" })) {
      // As a shell would say it, so callers report a missing program (tmux, say) the same way on both runtimes.
      return { exitCode: 127, stdout: "", stderr: `${command[0]}: command not found on this machine`, timedOut: false, truncated: false };
    }
    const child = Bun.spawn(command, {
      cwd: options.cwd,
      env,
      stdin: options.stdin === undefined ? "ignore" : options.stdin instanceof ReadableStream ? options.stdin : Buffer.from(options.stdin),
      stdout: "pipe",
      stderr: "pipe",
      timeout: options.timeoutMs,
      killSignal: "SIGKILL",
    });
    const limit = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    const collect = async (stream: ReadableStream<Uint8Array>) => {
      const kept = new BoundedOutput(limit);
      const reader = stream.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (!kept.add(value)) {
          child.kill("SIGKILL");
          await reader.cancel();
          break;
        }
      }
      return kept;
    };
    const [stdout, stderr, exitCode] = await Promise.all([collect(child.stdout), collect(child.stderr), child.exited]);
    const timedOut = options.timeoutMs !== undefined && child.signalCode === "SIGKILL" && !stdout.truncated && !stderr.truncated;
    return { exitCode, stdout: stdout.text(), stderr: stderr.text(), timedOut, truncated: stdout.truncated || stderr.truncated };
  }

  async spawn(_pod: Pod, command: string[], options: ExecOptions): Promise<PodProcess> {
    const child = Bun.spawn(command, {
      cwd: options.cwd,
      env: commandEnv(options.env, this.pathAfter()),
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    const output = new OutputFanout();
    const errors = new OutputFanout(EARLY_STDERR_BYTES);
    const pump = async (stream: ReadableStream<Uint8Array>, fanout: OutputFanout) => {
      const reader = stream.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        fanout.deliver(value);
      }
    };
    // Only stdout counts towards its end: a process may leave stderr to a child that outlives it.
    const pumped = pump(child.stdout, output).catch(() => undefined);
    void pump(child.stderr, errors).catch(() => undefined);
    return {
      write(data) {
        child.stdin.write(data);
        void child.stdin.flush();
      },
      onOutput: (listener) => output.listen(listener),
      onErrorOutput: (listener) => errors.listen(listener),
      exited: Promise.all([child.exited, pumped]).then(() => undefined),
      close() {
        void Promise.resolve(child.stdin.end()).catch(() => undefined);
      },
    };
  }

  async listOrphans(): Promise<OrphanPod[]> {
    return [];
  }

  async removeOrphan(): Promise<void> {}
}
