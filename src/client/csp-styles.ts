/**
 * xterm.js puts its theme colours and cell sizes into <style> elements it creates at run time.
 * Pier's Content-Security-Policy (`style-src 'self'`) blocks every such element, even an empty
 * one, so the terminal would render without colours or row heights and the console would fill
 * with violations. Constructed style sheets (`new CSSStyleSheet()`) are not inline styles and the
 * CSP lets them through, so this hands xterm a stand-in for each <style> it asks for: an element
 * that is never rendered, whose `textContent` goes into a constructed sheet adopted by the page.
 *
 * Only `document.createElement("style")` called from script changes; <style> written in HTML is
 * still blocked by the CSP as before. xterm only ever sets `textContent` and calls `remove()` on
 * these elements, which is all the stand-in supports.
 */

let installed = false;

export function routeStyleElementsToSheets(): void {
  if (installed) return;
  installed = true;
  const createElement = document.createElement.bind(document);
  document.createElement = ((tag: string, options?: ElementCreationOptions) =>
    tag.toLowerCase() === "style" ? styleStandIn(createElement) : createElement(tag, options)) as typeof document.createElement;
}

function styleStandIn(createElement: Document["createElement"]): HTMLElement {
  // A <template> is never rendered, wherever xterm appends it.
  const standIn = createElement("template");
  const sheet = new CSSStyleSheet();
  let css = "";
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  Object.defineProperty(standIn, "textContent", {
    get: () => css,
    set: (value: string | null) => {
      css = value ?? "";
      sheet.replaceSync(css);
    },
  });
  standIn.remove = () => {
    document.adoptedStyleSheets = document.adoptedStyleSheets.filter((adopted) => adopted !== sheet);
    Element.prototype.remove.call(standIn);
  };
  return standIn;
}
