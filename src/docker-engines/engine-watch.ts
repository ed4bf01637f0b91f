/** How long an engine gets to answer a ping before it is taken as not answering. */
export const ANSWER_MS = 2_000;
/** How often every engine is asked (by the scheduler's job): a dead one is known within this and ANSWER_MS. */
export const WATCH_EVERY_MS = 3_000;

export interface WatchedEngine {
  id: string;
  name: string;
  answers(timeoutMs: number): Promise<boolean>;
}

/**
 * Whether each Docker engine answers, as last asked. Calls to an engine known not to answer fail
 * at once instead of each waiting on it, so one dead engine never holds up another's pods; the
 * watch asks every engine again every few seconds, and a call that finds it answering again
 * clears it at once.
 */
export class EngineWatch {
  private down = new Set<string>();

  /** Whether the engine was not answering when last asked. */
  isDown(engineId: string): boolean {
    return this.down.has(engineId);
  }

  /** Asks every engine now (together), records what each said, and returns it. */
  async check(engines: WatchedEngine[]): Promise<Array<{ id: string; name: string; answers: boolean }>> {
    return Promise.all(engines.map(async (engine) => ({ id: engine.id, name: engine.name, answers: await this.ask(engine) })));
  }

  /** Asks one engine now and records what it said. */
  async ask(engine: WatchedEngine): Promise<boolean> {
    const answers = await engine.answers(ANSWER_MS).catch(() => false);
    if (answers) this.down.delete(engine.id);
    else this.down.add(engine.id);
    return answers;
  }

  /** An engine that is no longer configured is not watched. */
  forget(engineId: string): void {
    this.down.delete(engineId);
  }
}
