import { invalid } from "../infra/errors.ts";

/**
 * The named fields of a request's query string, each as text. Read from the URL itself: a field
 * given twice is a 400 naming it, not silently one of the two. Other fields are ignored.
 */
export function urlQuery<K extends string>(request: Request, fields: readonly K[]): Partial<Record<K, string>> {
  const params = new URL(request.url).searchParams;
  const query: Partial<Record<K, string>> = {};
  for (const key of fields) {
    const values = params.getAll(key);
    if (values.length > 1) throw invalid(key, `Give ${key} once.`);
    if (values.length === 1) query[key] = values[0];
  }
  return query;
}
