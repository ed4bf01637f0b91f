import type { Viewer } from "./layout.tsx";

const PAGES = [
  { href: "/settings", label: "General", adminOnly: true },
  { href: "/settings/tool-policy", label: "Tool policy", adminOnly: false },
  { href: "/settings/mcps", label: "MCP servers", adminOnly: false },
  { href: "/settings/automation", label: "Automation", adminOnly: false },
  { href: "/settings/sso", label: "Single sign-on", adminOnly: true },
];

/**
 * The settings pages' own row of links, on each of them: one place to find them all. A member
 * sees the pages open to them (reading the instance's tool policy and MCP servers, keeping their
 * own triggers), not the admin's page of the instance's settings.
 */
export function SettingsNav(props: { viewer: Viewer; current: string }) {
  const pages = PAGES.filter((page) => !page.adminOnly || props.viewer.role === "admin");
  return (
    <nav class="settings-nav" aria-label="Settings">
      {pages.map((page) => (
        <a href={page.href} aria-current={page.href === props.current ? "page" : undefined} safe>
          {page.label}
        </a>
      ))}
    </nav>
  );
}
