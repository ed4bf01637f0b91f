import { and, asc, desc, eq, inArray, isNotNull, isNull, ne, notInArray, or } from "drizzle-orm";
import { type Actor, personActor } from "../auth/actor.ts";
import { findUser } from "../auth/users.ts";
import { loadItems } from "../chat/items.ts";
import type { GitHub } from "../github/client.ts";
import { githubMessage } from "../github/client.ts";
import { closePullRequest, mergePullRequest } from "../github/pull-actions.ts";
import type { Db } from "../infra/db.ts";
import { AppError, forbidden, invalid } from "../infra/errors.ts";
import type { EventBus } from "../infra/events.ts";
import { newId } from "../infra/ids.ts";
import { KeyedLock } from "../infra/keyed-lock.ts";
import type { Pods } from "../pods/pods.ts";
import type { Mirrors } from "../repos/mirrors.ts";
import type { PublicPr, PullRequests } from "../prs/pull-requests.ts";
import { getRepo } from "../repos/repos.ts";
import type { SessionHosts } from "../sessions/hosts.ts";
import type { Sessions } from "../sessions/sessions.ts";
import type { Session } from "../sessions/session.ts";
import { sessionCostOf } from "../sessions/session-cost.ts";
import type { ChatEngineName } from "../sessions/tables.ts";
import type { Credentials } from "../settings/credentials.ts";
import type { SettingsStore } from "../settings/settings.ts";
import type { Tasks } from "../tasks/tasks.ts";
import type { LoopStep, Rounds } from "./rounds.ts";
import { MAX_ATTEMPTS } from "./run-input.ts";
import { RUN_QUERY_FIELDS, type RunQuery, type RunRow, liveRunOfSession, queryRuns, runFor } from "./run-query.ts";
import { carryOnMessage, feedbackMessage, firstMessage } from "./run-words.ts";
import type { RunRaise } from "../attention/raised.ts";
import { FINAL_RUN_STATES, RUN_STATES, type Round, type RunState, WORKING_RUN_STATES, runs } from "./tables.ts";

/** A run as the API shows it (the run object of API.md, "Runs"). */
export interface PublicRun {
  id: string;
  taskId: string;
  repoId: string;
  userId: string;
  sessionId: string | null;
  attempt: number;
  batchId: string;
  engine: ChatEngineName;
  model: string | null;
  agent: string | null;
  state: RunState;
  reason: string | null;
  rounds: Round[];
  paused: boolean;
  prNumber: number | null;
  prUrl: string | null;
  budgetUsd: number;
  costUsd: number;
  autoMerge: boolean;
  triggerId: string | null;
  createdAt: string;
  endedAt: string | null;
}

declare module "../infra/events.ts" {
  interface PierEvents {
    /** A run was started or moved on (topic: the run id), after every write. */
    "run.changed": { run: PublicRun };
  }
}

/** What starting runs takes (POST /api/tasks/:id/runs; a trigger's firing). */
export interface StartRunsInput {
  repoId?: string;
  engine?: ChatEngineName;
  model?: string;
  agent?: string;
  attempts?: number;
  variants?: Array<{ engine: ChatEngineName; model?: string; agent?: string }>;
  budgetUsd?: number;
  autoMerge?: boolean;
}

export interface RunDeps {
  db: Db;
  bus: EventBus;
  settings: SettingsStore;
  sessions: Sessions;
  hosts: SessionHosts;
  tasks: Tasks;
  prs: PullRequests;
  pods: Pods;
  github: GitHub;
  credentials: Credentials;
  mirrors: Mirrors;
  rounds: Rounds;
}

/** The moves that need the run's person: its pull request awaits their approval, or the run is over by itself. */
const RAISES: Partial<Record<RunState, RunRaise>> = { awaiting_approval: "run_awaiting_approval", done: "run_done", failed: "run_failed" };

/** A run whose agent is done for now and whose pull request is followed: CI, then reviews. */
const LOOP_STATES: RunState[] = ["waiting_ci", "waiting_review"];
/** Where a run waits for a slot to begin a round: a fix round from its PR loop, or a person's feedback once it awaits approval. */
const ROUND_WAITING_STATES: RunState[] = [...LOOP_STATES, "awaiting_approval"];

/**
 * A pull request that has shown no check for this long after it was pushed is taken to have no
 * CI: GitHub registers a repository's checks within seconds of a push, so a minute is plenty.
 */
export const NO_CI_AFTER_MS = 60_000;

/**
 * Unattended runs: a task worked on by an agent in a session of its own, acting as the person who
 * started it, from the task to a pull request that CI passes and a person approves (and, with
 * autoMerge, to its merge). Runs wait in a queue for a slot (maxConcurrentRuns, and the repository's
 * own limit: runs whose agent works hold one), and so does every round they are given; each step is
 * written first and then published (`run.changed`). The database is the truth, so a restarted Pier
 * carries every run on from where it stood.
 */
export class Runs {
  /** One step of a run at a time: events, the job's ticks and people's requests all move runs. */
  private steps = new KeyedLock();
  /** When each run began waiting on its pull request's CI (in this process; a restart starts the wait again). */
  private waitingSince = new Map<string, number>();
  /** Runs whose turn for a slot came and whose round is being worked out: the slot is kept for them meanwhile. */
  private offered = new Set<string>();

  constructor(private deps: RunDeps) {
    const { bus } = deps;
    bus.subscribe("session.state", null, ({ sessionId, state, error }) => this.sessionMoved(sessionId, state, error));
    bus.subscribe("chat.event", null, (event, sessionId) => {
      if (event.type === "turn_end" && !event.interrupted) this.onRunOf(sessionId, (run) => this.turnEnded(run));
    });
    bus.subscribe("pr.updated", null, (pr) => this.onRunOf(pr.sessionId, (run) => this.advance(run, Date.now())));
    bus.subscribe("task.updated", null, ({ task, from }) => {
      if (task?.status === "done" && from === "awaiting_approval") void this.approved(task.id);
    });
    bus.subscribe("task.rejected", null, ({ task }) => void this.rejected(task.id));
    bus.subscribe("budget.exceeded", null, ({ sessionId }) => {
      const run = this.runOfSession(sessionId);
      if (run) this.stopForBudget(run.id);
    });
  }

  // ---------------------------------------------------------------- starting

  /**
   * Starts one run per attempt (or per variant) on the task, acting as `actor`, each queued for a
   * slot and started in order as slots free. 400 when the task has no repository and none is given.
   * A trigger gives the task's description as it wrote it (`brief`, see runs.brief).
   */
  async start(actor: Actor, taskId: string, input: StartRunsInput, from?: { triggerId: string; brief?: string }): Promise<PublicRun[]> {
    if (actor.kind !== "person") throw forbidden("Only a person can start a run.");
    const task = this.deps.tasks.get(actor, taskId);
    const repoId = input.repoId || task.repoId;
    if (!repoId) throw new AppError(400, "no_repo", "The task has no repository; give repoId, or set the task's repository first.", "repoId");
    const repo = getRepo(this.deps.db, repoId, "repoId");
    if (!repo.githubRepo) throw new AppError(400, "not_on_github", `${repo.name} is not on GitHub, so a run could not open its pull request; set its GitHub repository in the repository's settings first.`, "repoId");
    const plain = this.deps.settings.plain();
    const variants = input.variants ?? Array.from({ length: input.attempts ?? 1 }, () => ({ engine: input.engine, model: input.model, agent: input.agent }));
    if (variants.length < 1 || variants.length > MAX_ATTEMPTS) throw invalid("attempts", `Attempts must be a whole number from 1 to ${MAX_ATTEMPTS}.`);
    if (input.variants && input.attempts !== undefined && input.attempts !== input.variants.length) {
      throw invalid("attempts", "Give attempts or variants, or as many attempts as variants.");
    }
    const budgetUsd = input.budgetUsd ?? plain.runBudgetUsd;
    if (budgetUsd === null) throw invalid("budgetUsd", "No budget per run is set in settings; give budgetUsd.");
    const planned = variants.map((variant) => {
      const engine = variant.engine ?? plain.defaultEngine;
      const agent = this.deps.sessions.agentFor(engine, variant.agent || null);
      return { engine, model: this.deps.sessions.modelFor(agent, variant.model || null), agent };
    });
    const batchId = newId();
    const createdAt = new Date();
    const rows: RunRow[] = planned.map((variant, index) => ({
      id: newId(),
      taskId: task.id,
      repoId: repo.id,
      userId: actor.user.id,
      sessionId: null,
      attempt: index + 1,
      batchId,
      ...variant,
      state: "queued",
      reason: null,
      rounds: "[]",
      prNumber: null,
      prUrl: null,
      budgetUsd,
      autoMerge: input.autoMerge ?? plain.autoMerge,
      paused: false,
      triggerId: from?.triggerId ?? null,
      brief: from?.brief ?? null,
      slotWantedAt: null,
      createdAt,
      endedAt: null,
    }));
    this.deps.db.transaction((tx) => {
      for (const row of rows) tx.insert(runs).values(row).run();
    });
    for (const row of rows) this.publish(row.id);
    await this.fill();
    return rows.map((row) => this.publicOf(this.row(row.id)));
  }

  // ---------------------------------------------------------------- reading

  get(actor: Actor, id: string): PublicRun {
    return this.publicOf(runFor(this.deps.db, actor, id));
  }

  /** One page of the runs the actor may see (GET /api/runs), newest first. */
  query(actor: Actor, query: Record<string, unknown>): { runs: PublicRun[]; next: string | null } {
    const fields: RunQuery = {};
    for (const key of RUN_QUERY_FIELDS) {
      const value = query[key];
      if (value === undefined) continue;
      if (typeof value !== "string") throw invalid(key, `Give ${key} once, as text.`);
      fields[key] = value;
    }
    const page = queryRuns(this.deps.db, actor, fields);
    return { runs: page.runs.map((row) => this.publicOf(row)), next: page.next };
  }

  /** The live run of a session, if its session belongs to one (for the budget gate). */
  forSession(sessionId: string): { id: string; budgetUsd: number; state: RunState } | null {
    const run = this.runOfSession(sessionId);
    return run ? { id: run.id, budgetUsd: run.budgetUsd, state: run.state } : null;
  }

  /**
   * Why the task cannot be approved yet, or null: its latest attempts (those started together) still
   * stand more than one, none picked, so which pull request the approval is for is not known.
   */
  approvalRefusal(taskId: string): AppError | null {
    const latest = this.deps.db.select({ batchId: runs.batchId }).from(runs).where(eq(runs.taskId, taskId)).orderBy(desc(runs.createdAt)).get();
    if (!latest) return null;
    const standing = this.deps.db
      .select({ attempt: runs.attempt })
      .from(runs)
      .where(and(eq(runs.batchId, latest.batchId), notInArray(runs.state, ["stopped", "failed"])))
      .orderBy(asc(runs.attempt))
      .all();
    if (standing.length <= 1) return null;
    const attempts = standing.map((run) => run.attempt);
    return new AppError(
      409,
      "pick_an_attempt",
      `Attempts ${attempts.slice(0, -1).join(", ")} and ${attempts.at(-1)} of this task are all still standing: pick one of them first (Pick this one, on the task page), then approve.`,
    );
  }

  // ---------------------------------------------------------------- a person's hand

  /**
   * Stops a run: a queued one never starts; a started one's turn is stopped and its session
   * ended (its work saved on its branch, as ending any session does). Its pull request stays.
   */
  async stop(actor: Actor, id: string): Promise<PublicRun> {
    const run = this.mine(actor, id, "stop");
    if (FINAL_RUN_STATES.includes(run.state)) return this.publicOf(run);
    await this.steps.run(run.id, async () => {
      if (!this.move(run.id, { state: "stopped", reason: "person", endedAt: new Date() })) return;
      await this.endSession(this.row(run.id));
    });
    await this.fill();
    return this.publicOf(this.row(run.id));
  }

  /** Pauses (or resumes) the run's PR loop: while paused, its CI and reviews are not answered. */
  setPaused(actor: Actor, id: string, paused: boolean): PublicRun {
    const run = this.mine(actor, id, paused ? "pause" : "resume");
    if (FINAL_RUN_STATES.includes(run.state)) {
      throw new AppError(409, "run_over", `The run is ${run.state}; only a run still under way can be ${paused ? "paused" : "resumed"}.`);
    }
    this.move(run.id, { paused });
    if (!paused) void this.advance(this.row(run.id), Date.now());
    return this.publicOf(this.row(run.id));
  }

  /**
   * This attempt wins: every other attempt started with it is stopped, its session ended and its
   * open pull request closed with a comment saying which attempt was picked.
   */
  async pick(actor: Actor, id: string): Promise<PublicRun> {
    const run = this.mine(actor, id, "pick");
    if (run.state === "failed" || run.state === "stopped") throw new AppError(409, "run_over", `The run is ${run.state}; pick an attempt that is still under way or done.`);
    const others = this.deps.db.select().from(runs).where(and(eq(runs.batchId, run.batchId), ne(runs.id, run.id))).all();
    if (others.length === 0) throw new AppError(409, "no_other_attempts", "The run was started alone; there is no other attempt to pick it over.");
    const comment = `Pier: another attempt at this task was picked${run.prUrl ? ` (${run.prUrl})` : ""}, so this one is closed.`;
    for (const other of others) {
      await this.steps.run(other.id, async () => {
        if (this.move(other.id, { state: "stopped", reason: "person", endedAt: new Date() }, FINAL_RUN_STATES, "not")) {
          await this.endSession(this.row(other.id));
        }
        await this.closePullRequestOf(this.row(other.id), comment);
      });
    }
    await this.fill();
    return this.publicOf(this.row(run.id));
  }

  // ---------------------------------------------------------------- for the other parts

  /** Called by the fix-round part when it gives the agent a round (moves the run to fixing, stores the round). */
  async beginRound(runId: string, round: Round, message: string): Promise<void> {
    const run = this.row(runId);
    if (FINAL_RUN_STATES.includes(run.state)) throw new AppError(409, "run_over", `The run is ${run.state}; it takes no more rounds.`);
    const chat = run.sessionId ? this.liveChat(run.sessionId) : null;
    if (!chat) throw new AppError(409, "session_not_active", "The run's session is not active, so its agent cannot take a round.");
    this.move(runId, { state: "fixing", rounds: JSON.stringify([...parseRounds(run.rounds), round]), slotWantedAt: null });
    this.waitingSince.delete(runId);
    chat.send(message);
  }

  /** The run went past its budget: it stops, and its turn with it; its session stays, for its person to look at. */
  stopForBudget(runId: string): void {
    if (!this.move(runId, { state: "stopped", reason: "budget", endedAt: new Date() }, FINAL_RUN_STATES, "not")) return;
    const run = this.row(runId);
    if (run.sessionId) void this.deps.hosts.get(run.sessionId)?.chat().interrupt();
    void this.fill();
  }

  /**
   * The job's beat: queued runs start where slots are free, and runs waiting on CI are looked at
   * again (a repository with no CI is known only by time passing). `now` is the clock to judge by.
   */
  async tick(now = Date.now()): Promise<void> {
    await this.fill();
    const waiting = this.deps.db.select().from(runs).where(eq(runs.state, "waiting_ci")).all();
    for (const run of waiting) await this.advance(run, now);
  }

  /**
   * After a restart: runs caught between a slot and their session start again, and the queue
   * fills. Runs whose session is active again carry on through its activation (see sessionActive).
   */
  async resumeAfterRestart(): Promise<void> {
    const unstarted = this.deps.db.select().from(runs).where(and(inArray(runs.state, WORKING_RUN_STATES), isNull(runs.sessionId))).all();
    for (const run of unstarted) await this.launch(run);
    await this.fill();
  }

  // ---------------------------------------------------------------- the loop

  /**
   * Gives free slots out in turn: a queued run starts; a run waiting to begin a round is looked at
   * again, and the slot stays its own (the others wait behind it) until it has begun its round or
   * found it needs none, when it fills the queue again.
   */
  private async fill(): Promise<void> {
    for (;;) {
      const next = this.nextInLine();
      if (!next) return;
      if (next.state !== "queued") {
        this.offerSlot(next);
        return;
      }
      if (!this.move(next.id, { state: "working" }, ["queued"])) continue;
      await this.launch(this.row(next.id));
    }
  }

  /**
   * Whose turn it is, when a slot is free (maxConcurrentRuns): of the queued runs (by when they were
   * started) and those waiting to begin a round (by when they asked), the first whose repository's
   * own limit leaves room too. A paused run's PR loop takes no turn.
   */
  private nextInLine(): RunRow | null {
    const working = this.deps.db.select({ repoId: runs.repoId }).from(runs).where(inArray(runs.state, WORKING_RUN_STATES)).all();
    if (working.length >= this.deps.settings.plain().maxConcurrentRuns) return null;
    const waiting = this.deps.db
      .select()
      .from(runs)
      .where(or(eq(runs.state, "queued"), and(isNotNull(runs.slotWantedAt), inArray(runs.state, ROUND_WAITING_STATES))))
      .all()
      .filter((run) => !(run.paused && LOOP_STATES.includes(run.state)))
      .sort((a, b) => inLineSince(a) - inLineSince(b) || a.attempt - b.attempt);
    const limits = new Map<string, number | null>();
    for (const run of waiting) {
      if (!limits.has(run.repoId)) limits.set(run.repoId, getRepo(this.deps.db, run.repoId).maxConcurrentRuns);
      const limit = limits.get(run.repoId)!;
      if (limit === null || working.filter((other) => other.repoId === run.repoId).length < limit) return run;
    }
    return null;
  }

  /** It is the run's turn for a slot: its round is worked out again (a PR loop's from GitHub, a feedback round from the task). */
  private offerSlot(run: RunRow): void {
    if (this.offered.has(run.id)) return;
    this.offered.add(run.id);
    const step = run.state === "awaiting_approval" ? () => this.feedbackRound(this.row(run.id)) : () => this.loopStep(this.row(run.id), Date.now());
    this.steps
      .run(run.id, step)
      .catch((error) => console.error(`[pier] run ${run.id} could not take its slot:`, error instanceof Error ? error.message : error))
      .finally(() => this.offered.delete(run.id));
  }

  /**
   * Whether the run may begin a round now: a slot is free and it is its turn. If not, it takes its
   * place in line (once: its place is kept) and waits in the state it is in.
   */
  private mayBeginRound(run: RunRow): boolean {
    if (run.slotWantedAt === null) {
      run.slotWantedAt = new Date();
      this.deps.db.update(runs).set({ slotWantedAt: run.slotWantedAt }).where(eq(runs.id, run.id)).run();
    }
    return this.nextInLine()?.id === run.id;
  }

  /** The run needs no slot after all (its round is no longer called for, or it failed): its place in line goes to the next. */
  private leaveLine(run: RunRow): void {
    if (run.slotWantedAt === null) return;
    this.deps.db.update(runs).set({ slotWantedAt: null }).where(eq(runs.id, run.id)).run();
    void this.fill();
  }

  /** The run's session, started as its person, on a branch of its own, linked to its task. */
  private async launch(run: RunRow): Promise<void> {
    try {
      const task = this.deps.tasks.read(run.taskId);
      const session = await this.deps.sessions.start(
        this.actorOf(run),
        { repoId: run.repoId, taskId: run.taskId, title: `Run ${run.attempt}: ${task.title}`.slice(0, 200), model: run.model ?? undefined, engine: run.engine, ...(run.agent ? { agent: run.agent } : {}) },
        { runId: run.id },
      );
      this.move(run.id, { sessionId: session.id });
    } catch (error) {
      this.fail(run.id, `The run's session could not start: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private sessionMoved(sessionId: string, state: "active" | "failed" | "ended", error?: string): void {
    const run = this.runOfSession(sessionId);
    if (!run) return;
    if (state === "failed") this.fail(run.id, `The run's session could not be prepared: ${error ?? "provisioning failed"}`);
    else if (state === "ended") {
      if (this.move(run.id, { state: "stopped", reason: "person", endedAt: new Date() }, FINAL_RUN_STATES, "not")) void this.fill();
    } else void this.steps.run(run.id, () => this.sessionActive(this.row(run.id)));
  }

  /**
   * The run's session is active (just prepared, or after a restart): its agent gets the task, or,
   * when it had it and a restart cut its turn off, is told to carry on; a turn that had ended
   * before the restart is followed up now.
   */
  private async sessionActive(run: RunRow): Promise<void> {
    if (!WORKING_RUN_STATES.includes(run.state) || !run.sessionId) return;
    const chat = this.liveChat(run.sessionId);
    if (!chat) return;
    const items = loadItems(this.deps.db, run.sessionId);
    if (!items.some((item) => item.kind === "user")) {
      chat.send(this.firstMessageOf(run));
      return;
    }
    const last = items.at(-1);
    if (last?.kind === "turn_end" && !last.interrupted) await this.afterTurn(run);
    else chat.send(carryOnMessage(run.state === "fixing" ? parseRounds(run.rounds).at(-1) : undefined));
  }

  private turnEnded(run: RunRow): Promise<void> {
    return this.steps.run(run.id, () => this.afterTurn(this.row(run.id)));
  }

  /**
   * The agent's turn ended. Working: with commits ahead of the base, the branch is pushed and the
   * pull request opened (as the session's Open pull request does), else the run failed. Fixing:
   * the branch is pushed, which updates the pull request. Then the run waits on CI.
   */
  private async afterTurn(run: RunRow): Promise<void> {
    if (!WORKING_RUN_STATES.includes(run.state) || !run.sessionId) return;
    const session = this.deps.sessions.get(run.sessionId);
    try {
      const workspace = await this.workspaceOf(session);
      const commits = await workspace.commitTitles(session.baseSha ?? session.baseRef, session.branch);
      if (commits.length === 0) {
        this.fail(run.id, "The agent's turn ended with no commits on its branch, so there was nothing to open a pull request from.");
        return;
      }
      if (run.prNumber === null) {
        const task = this.deps.tasks.read(run.taskId);
        const pr = await this.deps.prs.open(this.actorOf(run), session.id, { title: task.title.slice(0, 256) });
        this.move(run.id, { state: "waiting_ci", prNumber: pr.number, prUrl: pr.url }, WORKING_RUN_STATES);
      } else {
        // With a lease: a conflict round rebases the branch, and nobody else's push to it is overwritten.
        await workspace.push(session.branch, { forceWithLease: true });
        this.move(run.id, { state: "waiting_ci" }, WORKING_RUN_STATES);
        await this.deps.prs.refresh(run.repoId, run.prNumber);
      }
      this.waitingSince.set(run.id, Date.now());
    } catch (error) {
      this.fail(run.id, `Pier could not push the branch or open its pull request: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    void this.fill();
    await this.loopStep(this.row(run.id), Date.now());
  }

  /** A run's PR loop looked at again (an event, the job's beat, a resume), one step of a run at a time. */
  private advance(run: RunRow, now: number): Promise<void> {
    if (!LOOP_STATES.includes(run.state) || run.paused) return Promise.resolve();
    return this.steps.run(run.id, () => this.loopStep(this.row(run.id), now));
  }

  /**
   * One step of the PR loop, its caller holding the run's lock. The rounds (rounds.ts) say what
   * the pull request asks for: a fix round for the agent, a wait for CI or a reviewer, failure
   * past maxFixRounds, or a person's approval once CI passed, or none showed up for NO_CI_AFTER_MS.
   * A paused run is left as it is.
   */
  private async loopStep(run: RunRow, now: number): Promise<void> {
    if (!LOOP_STATES.includes(run.state) || run.paused || run.prNumber === null || !run.sessionId) return;
    const pr = this.pullRequestOf(run);
    if (!pr) return;
    let step: LoopStep;
    try {
      step = await this.deps.rounds.next({ ...run, rounds: parseRounds(run.rounds) }, pr);
    } catch (error) {
      // GitHub did not answer: the next event or beat looks again.
      console.error(`[pier] the next step of run ${run.id} could not be worked out: ${githubMessage(error)}`);
      return;
    }
    if (step.kind === "round") {
      await this.giveRound(run, step.round, step.message);
      return;
    }
    this.leaveLine(run);
    if (step.kind === "fail") this.fail(run.id, step.reason);
    else if (step.kind === "wait") {
      if (step.state !== run.state) this.move(run.id, { state: step.state }, LOOP_STATES);
    } else await this.readyForApproval(run, pr, now);
  }

  /** CI passed (or shows no check after NO_CI_AFTER_MS) and nothing is asked: the task awaits a person's approval. */
  private async readyForApproval(run: RunRow, pr: PublicPr, now: number): Promise<void> {
    if (!this.waitingSince.has(run.id)) this.waitingSince.set(run.id, now);
    if (pr.ciStatus === "none" && now - this.waitingSince.get(run.id)! < NO_CI_AFTER_MS) return;
    if (!this.move(run.id, { state: "awaiting_approval" }, LOOP_STATES)) return;
    this.waitingSince.delete(run.id);
    const task = this.deps.tasks.read(run.taskId);
    // The first attempt there moves the task; its report is asked for as the run's person (who pays for it).
    if (task.status === "in_progress") this.deps.tasks.update(this.actorOf(run), run.taskId, { status: "awaiting_approval" });
  }

  /**
   * Gives the agent a fix round once a slot is free and it is the run's turn (until then the run
   * waits as it is, and the round is worked out again when its turn comes). For a conflict, the
   * base is fetched first (the mirror from GitHub, the person's clone from the mirror), so the
   * agent rebases onto the base as it is now.
   */
  private async giveRound(run: RunRow, round: Round, message: string): Promise<void> {
    // Its session is not active again yet after a restart: a later look gives the round.
    if (!this.liveChat(run.sessionId!) || !this.mayBeginRound(run)) return;
    try {
      if (round.kind === "conflict") {
        const repo = getRepo(this.deps.db, run.repoId);
        await this.deps.mirrors.update(repo);
        await (await this.workspaceOf(this.deps.sessions.get(run.sessionId!))).fetchOrigin();
      }
      await this.beginRound(run.id, round, message);
    } catch (error) {
      this.fail(run.id, `The run's agent could not be given its ${round.kind} round: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** A person approved the task: its runs awaiting approval are done, and those with autoMerge merged on GitHub. */
  private async approved(taskId: string): Promise<void> {
    const waiting = this.deps.db.select().from(runs).where(and(eq(runs.taskId, taskId), eq(runs.state, "awaiting_approval"))).all();
    for (const run of waiting) {
      await this.steps.run(run.id, async () => {
        if (!run.autoMerge) {
          this.move(run.id, { state: "done", endedAt: new Date() }, ["awaiting_approval"]);
          return;
        }
        const refusal = await this.merge(run);
        this.move(run.id, { state: "done", endedAt: new Date(), reason: refusal }, ["awaiting_approval"]);
        if (refusal === null) await this.endSession(this.row(run.id));
      });
    }
  }

  /**
   * Merges the run's pull request by the instance's merge method, as the run's person. GitHub's own
   * rules decide (CI, reviews, conflicts): its refusal comes back as a sentence, else null.
   */
  private async merge(run: RunRow): Promise<string | null> {
    const repo = getRepo(this.deps.db, run.repoId);
    const token = await this.deps.credentials.githubToken(run.userId);
    const pr = this.pullRequestOf(run);
    if (!repo.githubRepo || !token || !pr || run.prNumber === null) return "Pier could not merge the pull request: no GitHub token or repository; merge it on GitHub.";
    try {
      await mergePullRequest(this.deps.github, token, repo.githubRepo, run.prNumber, this.deps.settings.plain().mergeMethod, pr.headSha);
    } catch (error) {
      return `GitHub did not merge the pull request: ${githubMessage(error)}`;
    }
    await this.deps.prs.refresh(run.repoId, run.prNumber);
    return null;
  }

  /** A person sent the task back: each of its runs awaiting approval takes the feedback as a round, when a slot lets it. */
  private async rejected(taskId: string): Promise<void> {
    const waiting = this.deps.db.select().from(runs).where(and(eq(runs.taskId, taskId), eq(runs.state, "awaiting_approval"))).all();
    for (const run of waiting) await this.steps.run(run.id, () => this.feedbackRound(this.row(run.id)));
  }

  /**
   * Gives a run awaiting approval the task's latest feedback as a round, once it may begin one (it
   * waits in line for a slot meanwhile, still awaiting approval).
   */
  private async feedbackRound(run: RunRow): Promise<void> {
    if (run.state !== "awaiting_approval") return;
    const note = this.deps.tasks.notesOf(run.taskId).findLast((each) => each.kind === "feedback");
    if (!note) {
      this.leaveLine(run);
      return;
    }
    if (!this.mayBeginRound(run)) return;
    const author = this.deps.tasks.noteAuthor(note);
    try {
      await this.beginRound(run.id, { kind: "feedback", at: new Date().toISOString(), summary: `Feedback from ${author}` }, feedbackMessage(note, author));
    } catch (error) {
      this.fail(run.id, `The task was sent back, but its feedback could not reach the run's agent: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  // ---------------------------------------------------------------- inside

  private firstMessageOf(run: RunRow): string {
    const task = this.deps.tasks.read(run.taskId);
    const notes = this.deps.tasks.notesOf(run.taskId).map((note) => ({ note, author: this.deps.tasks.noteAuthor(note) }));
    return firstMessage(task, notes, this.deps.tasks.creatorOf(task), run.brief);
  }

  private async closePullRequestOf(run: RunRow, comment: string): Promise<void> {
    const pr = this.pullRequestOf(run);
    if (!pr || run.prNumber === null || (pr.state !== "open" && pr.state !== "draft")) return;
    const repo = getRepo(this.deps.db, run.repoId);
    const token = await this.deps.credentials.githubToken(run.userId);
    if (!repo.githubRepo || !token) return;
    try {
      await closePullRequest(this.deps.github, token, repo.githubRepo, run.prNumber, comment);
      await this.deps.prs.refresh(run.repoId, run.prNumber);
    } catch (error) {
      console.error(`[pier] closing pull request #${run.prNumber} of run ${run.id} failed: ${githubMessage(error)}`);
    }
  }

  /** Ends the run's session as its person would (once it is prepared, if it is being prepared); one that is not live is left as it is. */
  private async endSession(run: RunRow): Promise<void> {
    if (!run.sessionId) return;
    await this.deps.hosts.get(run.sessionId)?.provisioning;
    const session = this.deps.sessions.get(run.sessionId);
    if (session.state !== "active") return;
    try {
      await this.deps.sessions.end(this.actorOf(run), session.id);
    } catch (error) {
      console.error(`[pier] ending session ${session.id} of run ${run.id} failed:`, error instanceof Error ? error.message : error);
    }
  }

  private pullRequestOf(run: RunRow): PublicPr | undefined {
    if (!run.sessionId || run.prNumber === null) return undefined;
    return this.deps.prs.bySession([run.sessionId]).get(run.sessionId)?.find((pr) => pr.number === run.prNumber);
  }

  private async workspaceOf(session: Session) {
    const repo = getRepo(this.deps.db, session.repoId);
    const shell = await this.deps.pods.ensure(repo, session.userId);
    return this.deps.pods.workspace(repo, session.userId, shell);
  }

  private liveChat(sessionId: string) {
    const host = this.deps.hosts.get(sessionId);
    return host && host.state === "active" ? host.chat() : null;
  }

  private fail(runId: string, reason: string): void {
    if (this.move(runId, { state: "failed", reason, endedAt: new Date() }, FINAL_RUN_STATES, "not")) void this.fill();
  }

  /** A run the actor may see, moved by its person or an admin (an agent never). */
  private mine(actor: Actor, id: string, what: string): RunRow {
    const run = runFor(this.deps.db, actor, id);
    if (actor.kind !== "person") throw forbidden(`Only a person can ${what} a run.`);
    return run;
  }

  /** The person the run acts for. */
  private actorOf(run: RunRow): Actor {
    const user = findUser(this.deps.db, run.userId);
    if (!user) throw new AppError(409, "run_owner_gone", "The person this run acts for is no longer a member.");
    return personActor(user);
  }

  private runOfSession(sessionId: string): RunRow | null {
    return liveRunOfSession(this.deps.db, sessionId);
  }

  /** Calls `step` with the live run of the session, if it has one; a failure is logged, never thrown into the bus. */
  private onRunOf(sessionId: string, step: (run: RunRow) => Promise<void>): void {
    const run = this.runOfSession(sessionId);
    if (!run) return;
    step(run).catch((error) => console.error(`[pier] run ${run.id} could not move on:`, error instanceof Error ? error.message : error));
  }

  /**
   * Writes the run and publishes it; with `states`, only while it is in one of them (or, with
   * "not", in none of them). Whether it was written. A move into a state that needs the run's
   * person raises it for them (each such move is guarded by the states it comes from, so once).
   */
  private move(id: string, values: Partial<RunRow>, states?: RunState[], not?: "not"): boolean {
    const guard = states ? (not ? and(eq(runs.id, id), inArray(runs.state, allBut(states))) : and(eq(runs.id, id), inArray(runs.state, states))) : eq(runs.id, id);
    const written = this.deps.db.update(runs).set(values).where(guard).returning({ id: runs.id }).all();
    if (written.length === 0) return false;
    this.publish(id);
    const raise = values.state && RAISES[values.state];
    if (raise) {
      const run = this.row(id);
      this.deps.bus.publish("attention.raised", run.sessionId ?? run.id, {
        sessionId: run.sessionId,
        userId: run.userId,
        reason: raise,
        run: { id: run.id, taskId: run.taskId, detail: run.reason },
      });
    }
    return true;
  }

  private publish(id: string): void {
    this.deps.bus.publish("run.changed", id, { run: this.publicOf(this.row(id)) });
  }

  private row(id: string): RunRow {
    const row = this.deps.db.select().from(runs).where(eq(runs.id, id)).get();
    if (!row) throw new AppError(404, "not_found", "No run with that id.");
    return row;
  }

  private publicOf(row: RunRow): PublicRun {
    return {
      id: row.id,
      taskId: row.taskId,
      repoId: row.repoId,
      userId: row.userId,
      sessionId: row.sessionId,
      attempt: row.attempt,
      batchId: row.batchId,
      engine: row.engine,
      model: row.model,
      agent: row.agent,
      state: row.state,
      reason: row.reason,
      rounds: parseRounds(row.rounds),
      paused: row.paused,
      prNumber: row.prNumber,
      prUrl: row.prUrl,
      budgetUsd: row.budgetUsd,
      costUsd: row.sessionId ? sessionCostOf(this.deps.db, row.sessionId) : 0,
      autoMerge: row.autoMerge,
      triggerId: row.triggerId,
      createdAt: row.createdAt.toISOString(),
      endedAt: row.endedAt?.toISOString() ?? null,
    };
  }
}

/** Where a run stands in line for a slot: a queued run since it was started, a round since it asked. */
function inLineSince(run: RunRow): number {
  return (run.slotWantedAt ?? run.createdAt).getTime();
}

function parseRounds(text: string): Round[] {
  return JSON.parse(text) as Round[];
}

function allBut(states: RunState[]): RunState[] {
  return RUN_STATES.filter((state) => !states.includes(state));
}
