import { type ExecOptions, type ExecResult, type OrphanPod, OutputFanout, type Pod, type PodProcess, type PodSpec, type PodStatus, type Progress, type Runtime } from "./runtime.ts";

const LOCAL_POD: Pod = { id: "local", image: "local" };

/**
 * The local runtime: commands run as processes of the server's own user, on the server's machine.
 * There is no container, so there is nothing to start or stop; sessions are not isolated.
 */
export class LocalRuntime implements Runtime {
  readonly kind = "local";
  readonly fileOwner = null;

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
    if (!Bun.which(command[0]!, { PATH: options.env?.PATH ?? process.env.PATH ?? "" })) {
      // As a shell would say it, so callers report a missing program (tmux, say) the same way on both runtimes.
      return { exitCode: 127, stdout: "", stderr: `${command[0]}: command not found on this machine`, timedOut: false };
    }
    const child = Bun.spawn(command, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdout: "pipe",
      stderr: "pipe",
      timeout: options.timeoutMs,
    });
    const [stdout, stderr, exitCode] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    return { exitCode, stdout, stderr, timedOut: child.signalCode === "SIGTERM" && options.timeoutMs !== undefined };
  }

  async spawn(_pod: Pod, command: string[], options: ExecOptions): Promise<PodProcess> {
    const child = Bun.spawn(command, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdin: "pipe",
      stdout: "pipe",
      stderr: "ignore",
    });
    const output = new OutputFanout();
    const pumped = (async () => {
      const reader = child.stdout.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        output.deliver(value);
      }
    })().catch(() => undefined);
    return {
      write(data) {
        child.stdin.write(data);
        void child.stdin.flush();
      },
      onOutput: (listener) => output.listen(listener),
      exited: Promise.all([child.exited, pumped]).then(() => undefined),
      close() {
        void Promise.resolve(child.stdin.end()).catch(() => undefined);
      },
    };
  }

  async listOrphans(): Promise<OrphanPod[]> {
    return [];
  }
}
