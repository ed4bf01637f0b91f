// Calls Pier's JSON API from the pages' scripts; any failure comes back as a sentence to show
// (the server's own, or one saying what went wrong on the way).

export type Answer<T> = { ok: true; data: T } | { ok: false; status: number; message: string };

export async function callApi<T>(path: string, init: RequestInit = {}): Promise<Answer<T>> {
  let response: Response;
  try {
    response = await fetch(path, { ...init, headers: { accept: "application/json", ...(init.body ? { "content-type": "application/json" } : {}) } });
  } catch {
    return { ok: false, status: 0, message: "Pier could not be reached; check the connection and try again." };
  }
  const body = (await response.json().catch(() => null)) as (T & { error?: { message?: string } }) | null;
  if (response.ok && body) return { ok: true, data: body };
  return { ok: false, status: response.status, message: body?.error?.message ?? `The server answered ${response.status}; try again.` };
}
