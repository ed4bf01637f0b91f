/**
 * What Pier's address of a preview (/sessions/:id/ports/:port) shows instead of the app, often
 * inside the session page's preview pane: a bare page, no navigation, that says why. While
 * nothing listens on the port it looks again every two seconds (a meta refresh: Pier's CSP
 * allows no inline script) and becomes the preview once the port listens.
 */
export function PreviewNoticePage(props: { title: string; message: string; refreshSeconds?: number }) {
  return (
    <>
      {"<!doctype html>"}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="color-scheme" content="light dark" />
          {props.refreshSeconds ? <meta http-equiv="refresh" content={String(props.refreshSeconds)} /> : ""}
          <title safe>{props.title} · Pier</title>
          <link rel="stylesheet" href="/public/style.css" />
        </head>
        <body>
          <main>
            <section class="card card-narrow">
              <h1 safe>{props.title}</h1>
              <p safe>{props.message}</p>
              {props.refreshSeconds ? <p class="muted" safe>{`This page looks again every ${props.refreshSeconds} seconds.`}</p> : ""}
            </section>
          </main>
        </body>
      </html>
    </>
  );
}

/** The widths the preview pane can show the app at, as a phone or a tablet would (empty: the pane's own). */
const PREVIEW_WIDTHS: Array<{ value: string; label: string }> = [
  { value: "", label: "Desktop" },
  { value: "768", label: "Tablet" },
  { value: "390", label: "Phone" },
];

/**
 * The session page's preview pane: the web apps listening in the session's pod, one at a time
 * in a frame on its own origin, with a URL bar, back, forward, reload, widths, a new tab, a
 * public link and "Send to chat" (the session's own person only). Filled in and kept live by
 * src/client/preview.ts from the session's events; `framed`: false where a framed preview gets
 * no cookie (plain-http PIER_PREVIEW_DOMAIN), so the pane offers the new tab instead.
 */
export function PreviewPanel(props: { session: { id: string }; ownSession: boolean; framed: boolean }) {
  const id = props.session.id;
  return (
    <div class="pane-body preview" data-preview={id} data-preview-framed={props.framed ? "yes" : "no"}>
      <p class="muted" data-preview-empty>
        Nothing listens in this session's pod yet. Start a web app (npm run dev, python3 -m http.server) in the terminal or ask the agent to: it shows up here.
      </p>
      <div class="preview-bar" data-preview-bar hidden>
        <label class="visually-hidden" for={`preview-port-${id}`}>
          Port
        </label>
        <select id={`preview-port-${id}`} data-preview-port />
        <button type="button" class="small" data-preview-back aria-label="Back" title="Back">
          ←
        </button>
        <button type="button" class="small" data-preview-forward aria-label="Forward" title="Forward">
          →
        </button>
        <button type="button" class="small" data-preview-reload aria-label="Reload" title="Reload">
          ↻
        </button>
        <form class="preview-address" data-preview-go>
          <span class="preview-origin mono" data-preview-origin />
          <label class="visually-hidden" for={`preview-path-${id}`}>
            Path on the preview
          </label>
          <input id={`preview-path-${id}`} class="mono" name="path" value="/" autocomplete="off" spellcheck="false" maxlength="2048" />
        </form>
        <label class="visually-hidden" for={`preview-width-${id}`}>
          Width
        </label>
        <select id={`preview-width-${id}`} data-preview-width>
          {PREVIEW_WIDTHS.map(({ value, label }) => (
            <option value={value} safe>
              {label}
            </option>
          ))}
        </select>
        <a class="button small" data-preview-open target="_blank" rel="noopener noreferrer" href="#">
          Open in a new tab
        </a>
        {props.ownSession ? (
          <button type="button" class="small" data-preview-send>
            Send to chat
          </button>
        ) : (
          ""
        )}
        {props.ownSession ? (
          <details class="preview-share">
            <summary class="button small">Share</summary>
            <form class="preview-share-form" data-preview-share>
              <label for={`preview-share-minutes-${id}`}>Public for (minutes)</label>
              <input id={`preview-share-minutes-${id}`} name="minutes" type="number" min="1" max="10080" value="60" required />
              <button type="submit" class="small">
                Make a public link
              </button>
              <button type="button" class="small" data-preview-revoke hidden>
                Revoke
              </button>
              <p class="mono wrap" data-preview-share-link hidden />
            </form>
          </details>
        ) : (
          ""
        )}
      </div>
      <p class="muted preview-status" role="status" data-preview-status />
      <div class="preview-stage" data-preview-stage hidden>
        <iframe data-preview-frame title="Preview of the web app" referrerpolicy="no-referrer" />
      </div>
    </div>
  );
}
