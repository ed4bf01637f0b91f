// Parts of a page drawn again from the server while the person is on it. The server renders the
// same markup as on the first load, so the browser never has its own copy of how a task looks.

/** The HTML of a page or a fragment from Pier, or null when it is gone (404) or could not be had. */
export async function fetchHtml(url: string): Promise<{ status: number; html: string | null }> {
  try {
    const response = await fetch(url, { headers: { accept: "text/html" } });
    return { status: response.status, html: response.ok ? await response.text() : null };
  } catch {
    return { status: 0, html: null };
  }
}

/** The first element of an HTML fragment. */
export function elementFrom(html: string): Element | null {
  const template = document.createElement("template");
  template.innerHTML = html;
  return template.content.firstElementChild;
}
