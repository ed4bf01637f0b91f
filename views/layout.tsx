import type { PropsWithChildren } from "@kitajs/html";

export interface Viewer {
  username: string;
  role: "admin" | "member";
}

interface LayoutProps {
  title: string;
  /** Absent on the setup and sign-in pages. */
  viewer?: Viewer;
  /** Which runtime runs sessions; the local one gets a warning banner. */
  runtime?: "docker" | "local";
  /** The Docker engine (its name) the page's session is on: its banner is about that engine alone. */
  dockerEngine?: string;
  current?: string;
  /** Extra style sheets and scripts (module bundles) a page needs, such as the terminal's. */
  styles?: string[];
  scripts?: string[];
}

/**
 * The main navigation. `current` names an item by its `href`; Settings leads a member to the
 * settings page that is theirs to change (their triggers), the instance's own page being an admin's.
 */
const NAV: Array<{ href: string; label: string; adminOnly: boolean; memberHref?: string }> = [
  { href: "/", label: "Dashboard", adminOnly: false },
  { href: "/sessions", label: "Sessions", adminOnly: false },
  { href: "/tasks", label: "Tasks", adminOnly: false },
  { href: "/skills", label: "Skills", adminOnly: false },
  { href: "/costs", label: "Costs", adminOnly: false },
  { href: "/repos", label: "Repositories", adminOnly: false },
  { href: "/tokens", label: "Tokens", adminOnly: false },
  { href: "/users", label: "Users", adminOnly: true },
  { href: "/audit", label: "Audit", adminOnly: true },
  { href: "/settings", label: "Settings", adminOnly: false, memberHref: "/settings/automation" },
];

export function Layout(props: PropsWithChildren<LayoutProps>) {
  return (
    <>
      {"<!doctype html>"}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="color-scheme" content="light dark" />
          <meta name="htmx-config" content='{"includeIndicatorCSS": false}' />
          <title safe>{props.title} · Pier</title>
          <link rel="stylesheet" href="/public/style.css" />
          <link rel="icon" href="/public/icon.svg" type="image/svg+xml" />
          <link rel="manifest" href="/public/manifest.webmanifest" />
          <meta name="theme-color" content="#1f6feb" />
          {(props.styles ?? []).map((href) => (
            <link rel="stylesheet" href={href} />
          ))}
          {(props.scripts ?? []).map((src) => (
            <script src={src} defer></script>
          ))}
          <script src="/public/vendor/htmx.min.js" defer></script>
          <script src="/public/app.js" defer></script>
          <script src="/public/session.js" defer></script>
          {props.viewer ? <script src="/public/vendor/attention.js" defer></script> : ""}
          {props.viewer && props.runtime === "docker" ? <script src="/public/vendor/engine-status.js" defer></script> : ""}
        </head>
        <body>
          <header class="topbar">
            <a class="brand" href="/">
              Pier
            </a>
            {props.viewer ? <Nav viewer={props.viewer} current={props.current} /> : ""}
          </header>
          {props.viewer && props.runtime === "docker" ? (
            <p class="banner banner-warn" role="status" data-engine-banner data-docker-engine={props.dockerEngine} hidden>
              The Docker engine is not answering: terminals and new sessions wait for it to come back. Everything else
              works, and nothing of your work is lost.
            </p>
          ) : (
            ""
          )}
          {props.viewer && props.runtime === "local" ? (
            <p class="banner banner-warn" role="status">
              Local runtime: sessions run as processes on this server, not in containers, so they are not isolated from
              Pier or from each other.
            </p>
          ) : (
            ""
          )}
          <main id="main" class="main">
            {props.children}
          </main>
        </body>
      </html>
    </>
  );
}

/**
 * The main navigation. On narrow screens it folds into a menu; a <details> does the folding, so
 * it opens without JavaScript, and on wide screens style.css lays it out as the plain row of links.
 */
function Nav(props: { viewer: Viewer; current?: string }) {
  const links = NAV.filter((item) => !item.adminOnly || props.viewer.role === "admin");
  return (
    <details class="fold nav-menu">
      <summary class="fold-toggle">
        <span aria-hidden="true">☰ </span>Menu
      </summary>
      <nav class="nav" aria-label="Main">
        {links.map((item) => (
          <a href={props.viewer.role === "admin" ? item.href : (item.memberHref ?? item.href)} aria-current={props.current === item.href ? "page" : undefined} safe>
            {item.label}
          </a>
        ))}
        <form method="post" action="/logout" class="nav-logout">
          <button type="submit" class="link-button" title={`Signed in as ${props.viewer.username}`}>
            {"Sign out "}
            <span class="muted" safe>
              ({props.viewer.username})
            </span>
          </button>
        </form>
      </nav>
    </details>
  );
}
