import type { Notice } from "../src/notices/notices.ts";

/**
 * A standing notice its reader may dismiss for good (see src/notices). Without JavaScript the form
 * posts to /notices/dismiss and comes back to `back`; with it, public/app.js asks the API and
 * takes the notice off the page without a reload. The button comes first so that the words can
 * flow round it (style.css). Words between backticks in a notice are names, shown as code.
 */
export function DismissibleNotice(props: { notice: Notice; back: string }) {
  const { id, text } = props.notice;
  return (
    <div class="notice notice-warn notice-dismissible" role="note" data-notice={id}>
      <form method="post" action="/notices/dismiss" data-dismiss-notice>
        <input type="hidden" name="notice" value={id} />
        <input type="hidden" name="back" value={props.back} />
        <button type="submit" class="small">
          Dismiss
        </button>
      </form>
      <p>
        {text.split("`").map((part, index) =>
          index % 2 === 1 ? (
            <code safe>{part}</code>
          ) : (
            <span safe>{part}</span>
          ),
        )}
      </p>
    </div>
  );
}
