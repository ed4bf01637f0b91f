// Small helpers for building the terminal and replay controls without a framework.

type Attributes = Record<string, string | boolean | undefined>;

/** Creates an element with attributes (true means present, false or undefined absent) and children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === true) element.setAttribute(name, "");
    else if (typeof value === "string") element.setAttribute(name, value);
  }
  element.append(...children);
  return element;
}

/**
 * A button that acts without taking the focus, so a phone keeps its keyboard open on the terminal
 * or the input bar while you tap keys. `name` is the accessible name (also shown as a tooltip).
 */
export function pressButton(text: string, name: string, onPress?: () => void): HTMLButtonElement {
  const button = el("button", { type: "button", "aria-label": name, title: name }, text);
  // The focus moves on the mouse-down that follows pointerdown; cancelling it keeps the focus put.
  button.addEventListener("pointerdown", (event) => event.preventDefault());
  if (onPress) button.addEventListener("click", onPress);
  return button;
}

/** A two-state button: aria-pressed tells assistive technology (and the stylesheet) which state it is in. */
export function setPressed(button: HTMLButtonElement, pressed: boolean): void {
  button.setAttribute("aria-pressed", String(pressed));
}

/** Calls `action` once calls stop coming for `ms` milliseconds. */
export function debounce<A extends unknown[]>(action: (...args: A) => void, ms: number): (...args: A) => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => action(...args), ms);
  };
}
