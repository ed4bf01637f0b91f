// The panel's two forms: Open pull request (filled from the session's commits when it opens, then
// pushed and opened on GitHub) and Add a pull request by its link. Both go through the JSON API;
// a refusal is shown beside the form as the server's sentence, and what was typed stays.

import type { PublicPr } from "../prs/pull-requests.ts";
import { callApi } from "./api.ts";

function showError(element: HTMLElement, message: string | null): void {
  element.textContent = message ?? "";
  element.hidden = message === null;
}

/**
 * The Open pull request button and its form. The suggested title and description are asked for
 * each time the form opens, and only fill fields the person has not written in.
 */
export function wireOpenPrForm(root: HTMLElement, sessionId: string, opened: (pr: PublicPr) => void): void {
  const button = root.querySelector<HTMLButtonElement>("[data-open-pr]");
  const form = root.querySelector<HTMLFormElement>("[data-open-pr-form]");
  if (!button || !form) return;
  const status = form.querySelector<HTMLElement>("[data-open-pr-status]")!;
  const error = form.querySelector<HTMLElement>("[data-open-pr-error]")!;
  const title = form.elements.namedItem("title") as HTMLInputElement;
  const body = form.elements.namedItem("body") as HTMLTextAreaElement;
  const base = form.elements.namedItem("base") as HTMLInputElement;
  const draft = form.elements.namedItem("draft") as HTMLInputElement;
  const submit = form.querySelector<HTMLButtonElement>('button[type="submit"]')!;
  const path = `/api/sessions/${sessionId}/pull-request`;

  const setOpen = (open: boolean) => {
    form.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
  };

  button.addEventListener("click", async () => {
    if (!form.hidden) return setOpen(false);
    setOpen(true);
    showError(error, null);
    title.focus();
    status.textContent = "Reading the session's commits…";
    const suggestion = await callApi<{ title: string; body: string; base: string }>(path);
    status.textContent = "";
    if (!suggestion.ok) return showError(error, `No suggestion from the session's commits: ${suggestion.message}`);
    if (!title.value) title.value = suggestion.data.title;
    if (!body.value) body.value = suggestion.data.body;
    base.value = suggestion.data.base;
  });

  // Cancel (or Escape) folds the form away; what was typed stays for next time.
  const cancel = () => {
    setOpen(false);
    button.focus();
  };
  form.querySelector("[data-open-pr-cancel]")?.addEventListener("click", cancel);
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") cancel();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(error, null);
    submit.disabled = true;
    status.textContent = "Pushing the branch and opening the pull request on GitHub…";
    const answer = await callApi<PublicPr>(path, {
      method: "POST",
      body: JSON.stringify({ title: title.value, body: body.value, draft: draft.checked }),
    });
    submit.disabled = false;
    status.textContent = "";
    if (!answer.ok) {
      showError(error, answer.message);
      return;
    }
    form.reset();
    setOpen(false);
    opened(answer.data);
  });
}

/** Add a pull request by its link: it joins the list, or the server says why it does not belong. */
export function wireAddPrForm(root: HTMLElement, sessionId: string, added: (pr: PublicPr) => void): void {
  const form = root.querySelector<HTMLFormElement>("[data-add-pr]");
  if (!form) return;
  const url = form.elements.namedItem("url") as HTMLInputElement;
  const error = form.querySelector<HTMLElement>(".field-error")!;
  const submit = form.querySelector<HTMLButtonElement>('button[type="submit"]')!;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(error, null);
    url.removeAttribute("aria-invalid");
    submit.disabled = true;
    const answer = await callApi<PublicPr>(`/api/sessions/${sessionId}/prs`, { method: "POST", body: JSON.stringify({ url: url.value }) });
    submit.disabled = false;
    if (!answer.ok) {
      showError(error, answer.message);
      url.setAttribute("aria-invalid", "true");
      url.focus();
      return;
    }
    form.reset();
    added(answer.data);
  });
}
