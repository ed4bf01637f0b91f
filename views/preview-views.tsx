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
