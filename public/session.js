// The session page: live provisioning progress, and the resizable, collapsible panes.

// Notices above the workspace, from one stream of the session's events: how Pier's copy of Claude
// Code for this pod stands ("Fetching Claude Code 2.1.330… 45 %", or why it failed), and a move of
// the pod to another Docker engine ("Moving your pod to far…", then how it ended).
const claudeCodeNotice = document.querySelector("[data-claude-code-notice]");
const podMoveNotice = document.querySelector("[data-pod-move-notice]");
if (claudeCodeNotice) {
  const source = new EventSource(`/api/sessions/${encodeURIComponent(claudeCodeNotice.getAttribute("data-claude-code-notice"))}/events`);
  source.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "claude-code") {
      claudeCodeNotice.textContent = event.notice ?? "";
      claudeCodeNotice.hidden = !event.notice;
    }
    if (event.type === "pod-move" && podMoveNotice) {
      podMoveNotice.textContent = event.notice;
      podMoveNotice.hidden = false;
      podMoveNotice.classList.toggle("notice-warn", event.state === "failed");
    }
  };
}

const events = document.querySelector("[data-session-events]");
if (events) {
  const order = ["image", "pod", "clone", "worktree", "environment", "setup"];
  const bar = events.querySelector(".step-progress");
  const current = events.querySelector(".current-step");
  const source = new EventSource(events.getAttribute("data-session-events"));
  source.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "state") {
      source.close();
      window.location.reload();
      return;
    }
    // The stream also carries pull request news, which the working layout shows once it is up.
    if (event.type !== "progress") return;
    const reached = order.indexOf(event.step);
    for (const item of events.querySelectorAll("[data-step]")) {
      const index = order.indexOf(item.getAttribute("data-step"));
      item.classList.toggle("done", index < reached || (index === reached && event.fraction === 1));
      item.classList.toggle("current", index === reached && event.fraction !== 1);
      if (index !== reached) continue;
      item.hidden = false;
      item.querySelector(".step-message").textContent = event.message;
      // What the step's command printed last (the setup script's output), as plain text.
      const output = item.querySelector(".step-output");
      if (output && Array.isArray(event.lines)) {
        output.textContent = event.lines.join("\n");
        output.hidden = event.lines.length === 0;
      }
    }
    current.textContent = event.message;
    if (typeof event.fraction === "number") bar.value = event.fraction;
    else bar.removeAttribute("value");
  };
}

const workspace = document.querySelector(".workspace");
if (workspace) {
  const key = workspace.getAttribute("data-split-key");
  const saved = Number(localStorage.getItem(key));
  if (saved > 10 && saved < 90) workspace.style.setProperty("--split", `${saved}%`);

  const handle = workspace.querySelector(".split-handle");
  const setSplit = (percent) => {
    const clamped = Math.min(85, Math.max(15, percent));
    workspace.style.setProperty("--split", `${clamped}%`);
    localStorage.setItem(key, String(Math.round(clamped)));
  };
  handle.addEventListener("pointerdown", (down) => {
    handle.setPointerCapture(down.pointerId);
    const move = (event) => {
      const box = workspace.getBoundingClientRect();
      setSplit(((event.clientX - box.left) / box.width) * 100);
    };
    handle.addEventListener("pointermove", move);
    handle.addEventListener("pointerup", () => handle.removeEventListener("pointermove", move), { once: true });
  });
  handle.addEventListener("keydown", (event) => {
    const now = parseFloat(getComputedStyle(workspace).getPropertyValue("--split")) || 50;
    if (event.key === "ArrowLeft") setSplit(now - 5);
    if (event.key === "ArrowRight") setSplit(now + 5);
  });

  for (const button of workspace.querySelectorAll("[data-collapse]")) {
    button.addEventListener("click", () => {
      const pane = document.querySelector(button.getAttribute("data-collapse"));
      const collapsed = pane.classList.toggle("collapsed");
      button.setAttribute("aria-expanded", String(!collapsed));
      button.textContent = collapsed ? "Show" : "Hide";
      workspace.classList.toggle(`without-${pane.id.replace("pane-", "")}`, collapsed);
    });
  }
}

// On phones the workspace's panes are tabs (style.css shows the strip at 800 px and less and,
// with data-tab set, only the chosen pane); the choice is kept for the tab's life. Without
// this script the panes stack, each with its Show/Hide.
const tabs = workspace && workspace.querySelector(".pane-tabs");
if (tabs) {
  const buttons = [...tabs.querySelectorAll("[role=tab]")];
  const storageKey = `pier-tab:${location.pathname}`;
  const choose = (name, focus) => {
    const chosen = buttons.find((button) => button.getAttribute("data-tab") === name) || buttons[0];
    for (const button of buttons) {
      const selected = button === chosen;
      button.setAttribute("aria-selected", String(selected));
      button.tabIndex = selected ? 0 : -1;
      document.getElementById(button.getAttribute("aria-controls"))?.classList.toggle("tab-current", selected);
    }
    const pane = chosen.getAttribute("data-tab");
    workspace.setAttribute("data-tab", pane);
    sessionStorage.setItem(storageKey, pane);
    if (focus) chosen.focus();
    // The terminal and the preview size themselves to a pane that was not shown until now.
    window.dispatchEvent(new Event("resize"));
  };
  for (const button of buttons) button.addEventListener("click", () => choose(button.getAttribute("data-tab"), false));
  // A tab tells how many things its pane holds (ports, pull requests) as the pane's own count does.
  for (const button of buttons) {
    const tabCount = button.querySelector("[data-tab-count]");
    const paneCount = document.getElementById(button.getAttribute("aria-controls"))?.querySelector("[data-pane-count]");
    if (!tabCount || !paneCount) continue;
    const copy = () => {
      const none = paneCount.hidden || paneCount.textContent.trim() === "0";
      tabCount.textContent = none ? "" : paneCount.textContent;
      tabCount.hidden = none;
    };
    new MutationObserver(copy).observe(paneCount, { childList: true, characterData: true, subtree: true, attributes: true });
    copy();
  }
  tabs.addEventListener("keydown", (event) => {
    const at = buttons.indexOf(document.activeElement);
    if (at < 0 || (event.key !== "ArrowLeft" && event.key !== "ArrowRight")) return;
    const next = buttons[(at + (event.key === "ArrowRight" ? 1 : buttons.length - 1)) % buttons.length];
    choose(next.getAttribute("data-tab"), true);
  });
  tabs.hidden = false;
  choose(sessionStorage.getItem(storageKey) || "terminal", false);
}
