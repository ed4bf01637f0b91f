import type { PropsWithChildren } from "@kitajs/html";

/** What a form shows again after a failed submit: the values typed and the one error to fix. */
export interface FormState {
  values: Record<string, string>;
  error?: { field?: string; message: string };
}

export const emptyForm: FormState = { values: {} };

/**
 * A form that works twice: as a plain POST without JavaScript, and through htmx, which posts it
 * in the background and swaps in the <main> of the answer (same page, re-rendered by the server).
 */
export function HxForm(props: PropsWithChildren<{ action: string; class?: string; confirm?: string; label?: string }>) {
  return (
    <form
      method="post"
      action={props.action}
      class={props.class}
      aria-label={props.label}
      hx-post={props.action}
      hx-target="#main"
      hx-select="#main"
      hx-swap="outerHTML"
      hx-confirm={props.confirm}
    >
      {props.children}
    </form>
  );
}

interface FieldProps {
  form: FormState;
  name: string;
  label: string;
  type?: string;
  hint?: string;
  placeholder?: string;
  required?: boolean;
  autocomplete?: string;
  /** Values never echoed back into the page (passwords, secrets). */
  secret?: boolean;
  /** A number field's least value and step (amounts in cents, say). */
  min?: string;
  step?: string;
}

/** What a field shows around its control: its id, the error that is its own, and what describes it. */
function fieldParts(props: { form: FormState; name: string; hint?: string }) {
  const id = `field-${props.name}`;
  const error = props.form.error?.field === props.name ? props.form.error.message : undefined;
  const describedBy = [error ? `${id}-error` : "", props.hint ? `${id}-hint` : ""].filter(Boolean).join(" ") || undefined;
  return { id, error, describedBy };
}

/** A field's frame: its label, the control, then its hint and its error; `modelsOf` names the engine field a model field follows (ModelField). */
function FieldFrame(props: PropsWithChildren<{ id: string; label: string; hint?: string; error?: string; modelsOf?: string; hidden?: boolean }>) {
  const { id, error } = props;
  return (
    <div class={error ? "field field-invalid" : "field"} data-models-of={props.modelsOf} hidden={props.hidden}>
      <label for={id} safe>
        {props.label}
      </label>
      {props.children}
      {props.hint ? (
        <p class="hint" id={`${id}-hint`} safe>
          {props.hint}
        </p>
      ) : (
        ""
      )}
      {error ? (
        <p class="field-error" id={`${id}-error`} role="alert" safe>
          {error}
        </p>
      ) : (
        ""
      )}
    </div>
  );
}

export function Field(props: FieldProps) {
  const { id, error, describedBy } = fieldParts(props);
  return (
    <FieldFrame id={id} label={props.label} hint={props.hint} error={error}>
      <input
        id={id}
        name={props.name}
        type={props.type ?? "text"}
        value={props.secret ? undefined : props.form.values[props.name]}
        placeholder={props.placeholder}
        required={props.required}
        autocomplete={props.autocomplete}
        min={props.min}
        step={props.step}
        aria-invalid={error ? "true" : undefined}
        aria-describedby={describedBy}
      />
    </FieldFrame>
  );
}

/** An error that belongs to no single field (wrong password, too many attempts). */
export function FormError(props: { form: FormState }) {
  const error = props.form.error;
  if (!error || error.field) return "";
  return (
    <p class="form-error" role="alert" safe>
      {error.message}
    </p>
  );
}

export function formatUsd(amount: number): string {
  return `$${amount.toFixed(2)}`;
}

/** How long a session or a run ran (or has run so far), as 45 s, 12 min or 3 h 20 min. */
export function formatDuration(from: Date, to: Date | null, now = Date.now()): string {
  const seconds = Math.max(0, Math.round(((to?.getTime() ?? now) - from.getTime()) / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

export function formatDate(date: Date): string {
  return date.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

/** A multi-line Field (descriptions, notes), with the same label, hint and error. */
export function TextArea(props: Omit<FieldProps, "type" | "secret" | "autocomplete"> & { rows?: number }) {
  const { id, error, describedBy } = fieldParts(props);
  return (
    <FieldFrame id={id} label={props.label} hint={props.hint} error={error}>
      <textarea id={id} name={props.name} rows={String(props.rows ?? 5)} placeholder={props.placeholder} required={props.required}
        aria-invalid={error ? "true" : undefined} aria-describedby={describedBy} safe>
        {props.form.values[props.name] ?? ""}
      </textarea>
    </FieldFrame>
  );
}

/** What each chat engine is called on pages (a session's label, the forms' choices). */
export const ENGINE_LABEL: Record<"pier" | "claude-code" | "acp", string> = { pier: "Pier's agent", "claude-code": "Claude Code", acp: "Coding agent (ACP)" };
/** The engines the forms offer by themselves; the ACP engine is offered as each of its agents. */
export const ENGINE_CHOICES: Array<[string, string]> = Object.entries(ENGINE_LABEL).filter(([engine]) => engine !== "acp");

/** A Field with a fixed set of choices; `options` are [value, label] pairs. */
/** A choice; options may carry the model service they are of (an engine's, a model's), which a ModelField follows. */
export function SelectField(props: { form: FormState; name: string; label: string; options: Array<[string, string, string?]>; hint?: string }) {
  const { id, error, describedBy } = fieldParts(props);
  const selected = props.form.values[props.name] ?? "";
  return (
    <FieldFrame id={id} label={props.label} hint={props.hint} error={error}>
      <select id={id} name={props.name} aria-invalid={error ? "true" : undefined} aria-describedby={describedBy}>
        {props.options.map(([value, label, service]) => (
          <option value={value} selected={value === selected} data-service={service} safe>
            {label}
          </option>
        ))}
      </select>
    </FieldFrame>
  );
}

/**
 * The choice of a model, narrowed to what the engine chosen in `engineField` can answer on: an
 * ACP agent its model service's models (each option says its service), one on `none` no model
 * at all (the field is hidden and sends nothing); Pier's agent and Claude Code every model.
 * Drawn narrowed for the engine the form holds; public/app.js narrows it again as the engine changes.
 */
export function ModelField(props: { form: FormState; name: string; label: string; models: Array<[string, string | null]>; engineField: string; service: string | null; hint?: string }) {
  const { id, error, describedBy } = fieldParts(props);
  const offered = props.models.filter(([, service]) => props.service === null || service === props.service).map(([model]) => model);
  const wanted = props.form.values[props.name] ?? "";
  const selected = offered.includes(wanted) ? wanted : offered[0];
  const none = props.service === "none";
  return (
    <FieldFrame id={id} label={props.label} hint={props.hint} error={error} modelsOf={`field-${props.engineField}`} hidden={none}>
      <select id={id} name={props.name} disabled={none} aria-invalid={error ? "true" : undefined} aria-describedby={describedBy}>
        {props.models.map(([model, service]) => {
          const away = !offered.includes(model);
          return (
            <option value={model} selected={model === selected} data-service={service ?? ""} hidden={away} disabled={away} safe>
              {model}
            </option>
          );
        })}
      </select>
    </FieldFrame>
  );
}
