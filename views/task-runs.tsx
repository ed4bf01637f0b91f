import type { Repo } from "../src/repos/repos.ts";
import { MAX_ATTEMPTS } from "../src/runs/run-input.ts";
import { ENGINE_LABEL, Field, type FormState, HxForm, ModelField, SelectField, formatDate } from "./components.tsx";
import { BudgetUsed, RunPullRequest, RunReason, RunStatePill, type RunView, RoundsTimeline, runDuration, runIsOver } from "./run-parts.tsx";

/** What an attempt of a batch compared with others shows of its changes (from its session's diff). */
export type DiffStats = { files: number; additions: number; deletions: number };

/** An attempt as the task page shows it; `changes` only where attempts are compared. */
export interface AttemptView extends RunView {
  /** Its changes against the base; "later" while its agent works; null when they could not be read. */
  changes?: DiffStats | "later" | null;
}

/** The attempts started together (one Run), newest batch first on the page. */
export interface RunBatch {
  batchId: string;
  startedAt: string;
  attempts: AttemptView[];
}

/** What the Run form offers: the task's repository or a choice of them, the engines (ACP agents with their services), the price table's models, and the defaults from settings. */
export interface RunFormChoices {
  /** Repositories to pick from, when the task has none of its own. */
  repos: Repo[] | null;
  engines: Array<[string, string, string?]>;
  /** Each model with the service that answers it. */
  models: Array<[string, string | null]>;
  defaults: { engine: string; model: string; budgetUsd: string; autoMerge: boolean };
}

/** The fields of the Run form, to tell an error of one of them from one of the whole form. */
export function runFormFields(): string[] {
  const perAttempt = Array.from({ length: MAX_ATTEMPTS }, (_, i) => [`engine${i + 1}`, `model${i + 1}`]).flat();
  return ["repoId", "attempts", "budgetUsd", "autoMerge", ...perAttempt];
}

/**
 * The task's runs, a batch at a time; where a batch has several attempts they stand side by side
 * with their changes, CI, cost and time, and one can be picked. Redrawn live with the page.
 */
export function TaskRuns(props: { taskId: string; batches: RunBatch[]; reportReady: boolean; error?: string }) {
  return (
    <div id="task-runs" data-live>
      {props.error ? (
        <p class="form-error" role="alert" safe>
          {props.error}
        </p>
      ) : (
        ""
      )}
      {props.batches.length === 0 ? (
        <p class="empty">No runs yet. A run works on the task unattended: its agent commits, Pier opens the pull request and follows its CI.</p>
      ) : (
        props.batches.map((batch) => <Batch taskId={props.taskId} batch={batch} reportReady={props.reportReady} />)
      )}
    </div>
  );
}

function Batch(props: { taskId: string; batch: RunBatch; reportReady: boolean }) {
  const { batch } = props;
  const compared = batch.attempts.length > 1;
  // Picking is choosing among attempts still standing; once the others are over there is nothing to pick between.
  const standing = batch.attempts.filter(({ run }) => run.state !== "stopped" && run.state !== "failed").length;
  const label = `${compared ? `${batch.attempts.length} attempts` : "Run"} started ${formatDate(new Date(batch.startedAt))}`;
  return (
    <section class={compared ? "run-batch run-compare" : "run-batch"} data-batch={batch.batchId} aria-label={label}>
      <h3 class="run-batch-head" safe>
        {compared ? `${label}, compared` : label}
      </h3>
      <div class="run-attempts">
        {batch.attempts.map((attempt) => (
          <Attempt taskId={props.taskId} view={attempt} compared={compared} pickable={compared && standing > 1} reportReady={props.reportReady} />
        ))}
      </div>
    </section>
  );
}

function Attempt(props: { taskId: string; view: AttemptView; compared: boolean; pickable: boolean; reportReady: boolean }) {
  const { view, compared } = props;
  const { run } = view;
  const over = runIsOver(run);
  const base = `/tasks/${props.taskId}/runs/${run.id}`;
  return (
    <article class="run-attempt" data-run={run.id} data-state={run.state} aria-label={`Attempt ${run.attempt}`}>
      <header class="run-attempt-head">
        <h4 safe>{`Attempt ${run.attempt}`}</h4>
        <RunStatePill run={run} />
      </header>
      <p class="run-variant muted">
        <span safe>{ENGINE_LABEL[run.engine]}</span>
        {run.model ? (
          <>
            {" · "}
            <span class="mono" safe>
              {run.model}
            </span>
          </>
        ) : (
          ""
        )}
      </p>
      <RunReason run={run} />
      {view.attention === "approval" ? <p class="badge badge-waiting">Its agent waits for a tool's approval</p> : ""}
      <dl class="run-facts">
        <div>
          <dt>Pull request</dt>
          <dd>
            <RunPullRequest view={view} />
          </dd>
        </div>
        {compared ? (
          <div>
            <dt>Changes</dt>
            <dd data-changes>
              <Changes changes={view.changes} />
            </dd>
          </div>
        ) : (
          ""
        )}
        <div>
          <dt>Cost</dt>
          <dd>
            <BudgetUsed run={run} />
          </dd>
        </div>
        <div>
          <dt>Fix rounds</dt>
          <dd safe>{String(run.rounds.length)}</dd>
        </div>
        <div>
          <dt>{over ? "Took" : "Running for"}</dt>
          <dd safe>{runDuration(run)}</dd>
        </div>
      </dl>
      {run.rounds.length > 0 ? (
        <details class="run-rounds-fold" id={`rounds-${run.id}`}>
          <summary safe>{`Rounds (${run.rounds.length})`}</summary>
          <RoundsTimeline run={run} />
        </details>
      ) : (
        ""
      )}
      <p class="run-links">
        {run.sessionId ? <a href={`/sessions/${run.sessionId}`}>Session</a> : ""}
        {run.sessionId && compared ? <a href={`/sessions/${run.sessionId}/review`}>Diff</a> : ""}
        {compared && props.reportReady ? <a href="#task-verification">Verification report</a> : ""}
      </p>
      {over ? "" : <RunButtons base={base} run={view.run} pickable={props.pickable} />}
      {over && props.pickable && run.state === "done" ? <PickButton base={base} attempt={run.attempt} /> : ""}
    </article>
  );
}

function Changes(props: { changes: AttemptView["changes"] }) {
  const { changes } = props;
  if (changes === undefined || changes === "later") return <span class="muted">When its agent has turned its work in</span>;
  if (changes === null) return <span class="muted">Could not be read just now</span>;
  return (
    <span class="run-changes">
      <span safe>{`${changes.files} ${changes.files === 1 ? "file" : "files"}`}</span>{" "}
      <span class="diff-added mono" safe>{`+${changes.additions}`}</span>{" "}
      <span class="diff-removed mono" safe>{`−${changes.deletions}`}</span>
    </span>
  );
}

/** Stop (Cancel while queued), Pause or Resume, and Pick for one of several attempts; plain forms that htmx posts in place. */
function RunButtons(props: { base: string; run: RunView["run"]; pickable: boolean }) {
  const { run, base } = props;
  const queued = run.state === "queued";
  return (
    <div class="actions run-actions">
      <HxForm action={`${base}/stop`} label={queued ? `Cancel attempt ${run.attempt}` : `Stop attempt ${run.attempt}`}
        confirm={queued ? undefined : "Stop this run? Its session ends (its work stays on its branch); its pull request stays open."}>
        <button type="submit" class="danger small">
          {queued ? "Cancel" : "Stop"}
        </button>
      </HxForm>
      {queued ? (
        ""
      ) : (
        <HxForm action={`${base}/${run.paused ? "resume" : "pause"}`} label={`${run.paused ? "Resume" : "Pause"} attempt ${run.attempt}`}>
          <button type="submit" class="small">
            {run.paused ? "Resume" : "Pause"}
          </button>
        </HxForm>
      )}
      {props.pickable ? <PickButton base={base} attempt={run.attempt} /> : ""}
    </div>
  );
}

function PickButton(props: { base: string; attempt: number }) {
  return (
    <HxForm action={`${props.base}/pick`} label={`Pick attempt ${props.attempt}`} class="run-pick"
      confirm="Pick this attempt? The other attempts stop, their pull requests are closed with a comment and their sessions end.">
      <button type="submit" class="primary small">
        Pick this one
      </button>
    </HxForm>
  );
}

/**
 * Run: one attempt or several side by side, each with its engine and model; a budget per run and
 * whether an approved run merges itself. A plain form (htmx posts it in place); the attempts past
 * the number chosen are hidden by CSS alone, so it reads the same without JavaScript.
 */
export function RunForm(props: { taskId: string; choices: RunFormChoices; form: FormState; open: boolean }) {
  const { choices, form } = props;
  const values: Record<string, string> = {
    attempts: "1",
    budgetUsd: choices.defaults.budgetUsd,
    ...Object.fromEntries(Array.from({ length: MAX_ATTEMPTS }, (_, i) => [[`engine${i + 1}`, choices.defaults.engine], [`model${i + 1}`, choices.defaults.model]]).flat()),
    ...form.values,
  };
  const state = { ...form, values };
  const autoMerge = form.error ? values.autoMerge === "on" : choices.defaults.autoMerge;
  const fields = new Set(runFormFields());
  const general = form.error && (!form.error.field || !fields.has(form.error.field)) ? form.error.message : undefined;
  const attempts = Array.from({ length: MAX_ATTEMPTS }, (_, i) => i + 1);
  return (
    <details class="run-start" id="run-start" open={props.open}>
      <summary>Run it unattended</summary>
      <HxForm action={`/tasks/${props.taskId}/runs`} label="Run the task unattended" class="run-form">
        <p class="hint">
          Each attempt works in a session of its own, as you, on a branch of its own; Pier opens its pull request and carries it through CI to
          your approval.
        </p>
        {general ? (
          <p class="form-error" role="alert" safe>
            {general}
          </p>
        ) : (
          ""
        )}
        <div class="run-form-top">
          {choices.repos ? <SelectField form={state} name="repoId" label="Repository" options={choices.repos.map((repo) => [repo.id, repo.name])} /> : ""}
          <SelectField form={state} name="attempts" label="Attempts" options={attempts.map((n) => [String(n), String(n)])}
            hint="Several attempts run side by side, to compare and pick one." />
          <Field form={state} name="budgetUsd" label="Budget per run (USD)" type="number" min="0.01" step="0.01"
            hint="Past it, the run stops and its model requests are refused." />
        </div>
        <div class="run-variants">
          {attempts.map((n) => (
            <fieldset class="run-variant-fields" data-attempt={String(n)}>
              <legend safe>{`Attempt ${n}`}</legend>
              <SelectField form={state} name={`engine${n}`} label="Engine" options={choices.engines} />
              <ModelField form={state} name={`model${n}`} label="Model" models={choices.models} engineField={`engine${n}`}
                service={choices.engines.find(([value]) => value === values[`engine${n}`])?.[2] ?? null} />
            </fieldset>
          ))}
        </div>
        <label class="check">
          <input type="checkbox" name="autoMerge" id="field-autoMerge" checked={autoMerge} />
          Merge it on GitHub once approved (when GitHub's own rules allow)
        </label>
        <button type="submit" class="primary" id="run-submit">
          Run
        </button>
      </HxForm>
    </details>
  );
}
