/** Spread of each wait, so jobs of several Piers (or several jobs) do not fire in step. */
const JITTER = 0.1;

interface Job {
  name: string;
  everyMs: number;
  run(): Promise<unknown>;
  timer?: ReturnType<typeof setTimeout>;
  running?: Promise<void>;
}

/**
 * The one place periodic work runs (reconciling pods, stopping idle ones, following pull
 * requests, watching the disk). Each job runs at most once at a time: a tick that finds the previous run still
 * going is skipped. Waits carry a little jitter, failures are logged with the job's name and never
 * stop the job, and stop() ends every timer and waits for runs under way.
 */
export class Scheduler {
  private jobs: Job[] = [];
  private stopped = false;

  /** Runs `run` every `everyMs` (about), starting one period from now. */
  every(name: string, everyMs: number, run: () => Promise<unknown>): void {
    const job: Job = { name, everyMs, run };
    this.jobs.push(job);
    this.schedule(job);
  }

  /** Runs the job now (unless it is running already), as its timer would. */
  async runNow(name: string): Promise<void> {
    const job = this.jobs.find((j) => j.name === name);
    if (job) await this.tick(job);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const job of this.jobs) clearTimeout(job.timer);
    await Promise.allSettled(this.jobs.map((job) => job.running));
  }

  private schedule(job: Job): void {
    if (this.stopped) return;
    const wait = job.everyMs * (1 - JITTER + Math.random() * 2 * JITTER);
    job.timer = setTimeout(() => void this.tick(job).finally(() => this.schedule(job)), wait);
    job.timer.unref();
  }

  private tick(job: Job): Promise<void> {
    if (job.running || this.stopped) return job.running ?? Promise.resolve();
    job.running = job
      .run()
      .then(
        () => undefined,
        (error) => console.error(`[pier] the ${job.name} job failed:`, error instanceof Error ? error.message : error),
      )
      .finally(() => {
        job.running = undefined;
      });
    return job.running;
  }
}
