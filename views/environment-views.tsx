import type { EnvironmentView } from "../src/environments/environments.ts";
import { HxForm } from "./components.tsx";

const SOURCE_LABEL: Record<EnvironmentView["source"], string> = {
  devcontainer: "The repository's devcontainer",
  image: "The image set on the repository",
  default: "Pier's workspace image",
};

const STATE_LABEL: Record<EnvironmentView["state"], string> = {
  ready: "Ready",
  building: "Building…",
  failed: "Failed",
  none: "Not built yet: it is built when your pod is next made.",
};

/** The Rebuild button: the person's pod made again from the default branch's environment. */
function RebuildForm(props: { action: string }) {
  return (
    <HxForm action={props.action} label="Rebuild your pod" class="inline-form"
      confirm="Rebuild your pod from the repository's environment? Your clone, worktrees and uncommitted files stay; what was installed into the pod by hand goes, and open terminals get a new shell.">
      <button type="submit">Rebuild</button>
    </HxForm>
  );
}

/**
 * The repository's environment as the person's pod stands against it: where it comes from, its
 * image, whether it is built, what of its configuration Pier refused, and Rebuild when outdated.
 */
export function EnvironmentSection(props: { repoId: string; view: EnvironmentView; rebuilding?: boolean }) {
  const { view } = props;
  return (
    <section class="card" id="environment" aria-labelledby="environment-title">
      <div class="card-head">
        <h2 id="environment-title">Environment</h2>
        {view.state !== "building" ? <RebuildForm action={`/repos/${props.repoId}/environment/rebuild`} /> : ""}
      </div>
      {props.rebuilding ? (
        <p class="notice" role="status">
          Rebuilding your pod. Your workspace stays; open terminals get a new shell when it is ready.
        </p>
      ) : (
        ""
      )}
      <EnvironmentNotes view={view} />
      <dl class="facts">
        <dt>From</dt>
        <dd safe>{SOURCE_LABEL[view.source]}</dd>
        {view.configPath ? (
          <>
            <dt>Configuration</dt>
            <dd class="mono" safe>
              {view.configPath}
            </dd>
          </>
        ) : (
          ""
        )}
        <dt>Image</dt>
        <dd class="mono wrap" safe>
          {view.imageRef}
        </dd>
        <dt>State</dt>
        <dd data-environment-state={view.state} safe>
          {STATE_LABEL[view.state]}
        </dd>
        {view.ports.length > 0 ? (
          <>
            <dt>Ports</dt>
            <dd safe>{view.ports.map((p) => (p.label ? `${p.port} (${p.label})` : String(p.port))).join(", ")}</dd>
          </>
        ) : (
          ""
        )}
      </dl>
    </section>
  );
}

/** What a person must know of the environment: its error, that it is outdated, what Pier refused. */
export function EnvironmentNotes(props: { view: EnvironmentView; rebuildAction?: string }) {
  const { view } = props;
  return (
    <>
      {view.error ? (
        <p class="field-error" role="alert" data-environment-error safe>
          {view.error}
        </p>
      ) : (
        ""
      )}
      {view.outdated ? (
        <div class="notice" role="status" data-environment-outdated>
          <span>Environment outdated: the repository's configuration changed since your pod was made.</span>
          {props.rebuildAction ? <RebuildForm action={props.rebuildAction} /> : ""}
        </div>
      ) : (
        ""
      )}
      {view.refused.length > 0 ? (
        <div class="notice" data-environment-refused>
          <p safe>{`Pier does not apply these keys of ${view.configPath ?? "the configuration"}; the rest applies:`}</p>
          <ul>
            {view.refused.map((r) => (
              <li>
                <code safe>{r.key}</code>: <span safe>{r.reason}</span>
              </li>
            ))}
          </ul>
        </div>
      ) : (
        ""
      )}
    </>
  );
}
