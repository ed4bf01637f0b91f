/** The longest path on Pier's (or a preview's) own origin that Pier sends a browser to. */
export const MAX_OWN_PATH_CHARS = 2048;

/**
 * Whether `text` is a path on the origin it is used on, and nothing more: one leading slash (not
 * two, which a browser reads as another host), no backslash (which browsers read as a slash), one
 * line, at most MAX_OWN_PATH_CHARS. Where sign-in sends a person back to, and where a preview opens.
 */
export function isOwnPath(text: string): boolean {
  return text.length <= MAX_OWN_PATH_CHARS && text.startsWith("/") && !text.startsWith("//") && !/[\\\x00-\x1f\x7f]/.test(text);
}
