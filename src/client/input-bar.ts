import { el, pressButton } from "./dom.ts";
import { voiceButton } from "./voice.ts";

/**
 * A plain text field under the terminal: the phone's keyboard, autocorrect and dictation work
 * normally there, and Send (or Enter) types the line into the terminal followed by Enter.
 */
export function inputBar(send: (data: string) => void, openEditor: () => void): HTMLElement {
  const input = el("input", {
    type: "text",
    "aria-label": "Terminal input",
    placeholder: "Type a line, then Send",
    autocomplete: "off",
    autocapitalize: "off",
    spellcheck: "false",
    enterkeyhint: "send",
  });
  const sendButton = pressButton("Send", "Send");
  sendButton.type = "submit";
  sendButton.classList.add("primary");
  const voice = voiceButton(input);
  const form = el(
    "form",
    { class: "term-inputbar" },
    input,
    ...(voice ? [voice] : []),
    pressButton("✎", "Open editor", openEditor),
    sendButton,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(`${input.value}\r`);
    input.value = "";
  });
  return form;
}
