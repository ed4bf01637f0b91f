import { el } from "./dom.ts";

/**
 * A full-screen dialog for writing several lines at once (easier on a phone than typing into the
 * terminal). Send hands the text over with "\r" for each line break, as Enter would type it.
 */
export function editorDialog(send: (data: string) => void): { dialog: HTMLDialogElement; open(): void } {
  const text = el("textarea", { "aria-label": "Text to send", spellcheck: "false", autocapitalize: "off", autocomplete: "off" });
  const cancel = el("button", { type: "button" }, "Cancel");
  const submit = el("button", { type: "submit", class: "primary" }, "Send text");
  const form = el("form", { method: "dialog" }, text, el("div", { class: "term-editor-actions" }, cancel, submit));
  const dialog = el("dialog", { class: "term-editor", "aria-label": "Editor" }, form);

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(text.value.replace(/\r?\n/g, "\r"));
    text.value = "";
    dialog.close();
  });
  cancel.addEventListener("click", () => dialog.close());

  return {
    dialog,
    open() {
      dialog.showModal();
      text.focus();
    },
  };
}
