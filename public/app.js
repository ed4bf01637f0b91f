// Small progressive enhancements; every page works without this file.
document.addEventListener("click", async (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
  if (!button) return;
  const source = document.querySelector(button.getAttribute("data-copy"));
  if (!source) return;
  try {
    await navigator.clipboard.writeText(source.textContent.trim());
    button.textContent = "Copied";
  } catch {
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    button.textContent = "Press Ctrl+C";
  }
});

// A notice's Dismiss: asked of the API and the notice taken off the page, so a session's terminal is
// not reloaded for it. Should the API refuse, the form goes the plain way and its page says why.
document.addEventListener("submit", async (event) => {
  const form = event.target instanceof HTMLFormElement && event.target.matches("[data-dismiss-notice]") ? event.target : null;
  if (!form) return;
  event.preventDefault();
  const notice = form.elements.namedItem("notice").value;
  const answer = await fetch("/api/me/dismissed", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ notice }),
  }).catch(() => null);
  if (answer?.ok) form.closest("[data-notice]")?.remove();
  else form.submit();
});

// The folded navigation on narrow screens closes when something else is touched, or on Escape.
const menu = document.querySelector("details.nav-menu");
if (menu) {
  document.addEventListener("click", (event) => {
    if (menu.open && !(event.target instanceof Node && menu.contains(event.target))) menu.open = false;
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !menu.open) return;
    menu.open = false;
    menu.querySelector("summary").focus();
  });
}

// A model's choice follows its engine's (see ModelField): an ACP agent is offered its model
// service's models only, one on none no model at all; the server draws the first choice so.
function narrowModels(engine) {
  const service = engine.selectedOptions[0]?.dataset.service ?? null;
  for (const field of document.querySelectorAll(`[data-models-of="${engine.id}"]`)) {
    const select = field.querySelector("select");
    field.hidden = service === "none";
    select.disabled = service === "none";
    for (const option of select.options) {
      const away = service !== null && option.dataset.service !== service;
      option.hidden = away;
      option.disabled = away;
    }
    if (select.selectedOptions[0]?.disabled) select.value = [...select.options].find((option) => !option.disabled)?.value ?? "";
  }
}
document.addEventListener("change", (event) => {
  if (event.target instanceof HTMLSelectElement && document.querySelector(`[data-models-of="${event.target.id}"]`)) narrowModels(event.target);
});
