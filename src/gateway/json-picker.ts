import { JSONParser } from "@streamparser/json";

/** A value picked out of a JSON text: its key, how deep it sat (1 for a key of the root), and the value. */
export type Picked = (key: string | number, value: unknown, depth: number) => void;

/**
 * Picks the values at a few paths (`$.usage`, `$.response.model`, `$.*.usageMetadata`) out of a
 * JSON text as it streams by, keeping nothing else of it: an answer can repeat a request's whole
 * instructions (the Responses API does), so holding the text to parse it at the end would hold
 * anything a pod cares to send. A streaming parser (@streamparser/json) sees each value once and
 * drops what is not asked for; a value is told as soon as it is whole. Text that is not JSON (an
 * SSE stream's `[DONE]`) stops the picking quietly: what was picked before stays picked.
 */
export class JsonPicker {
  private parser: JSONParser;
  private broken = false;

  constructor(paths: string[], picked: Picked) {
    this.parser = new JSONParser({ paths, keepStack: false });
    this.parser.onValue = ({ key, value, stack }) => {
      if (key !== undefined) picked(key, value, stack.length);
    };
    this.parser.onError = () => {
      this.broken = true;
    };
  }

  write(text: string | Uint8Array): void {
    if (this.broken || this.parser.isEnded) return;
    try {
      this.parser.write(text);
    } catch {
      this.broken = true;
    }
  }
}

/** A JSON object's usage counts, read as what they are: a count is a finite number from 0, anything else is missing. */
export function count(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : null;
}

/** A picked value as an object of fields, or null when it is not one (a `"usage": null`). */
export function fields(value: unknown): Record<string, unknown> | null {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}
