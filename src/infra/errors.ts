/**
 * An error a person can act on: an HTTP status, a snake_case code and one sentence.
 * Validation errors also name the offending field so forms can show the message beside it.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }

  toJSON() {
    return { error: { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) } };
  }
}

/** Too many attempts; `retryAfter` is in seconds and becomes the Retry-After header. */
export class RateLimited extends AppError {
  constructor(
    readonly retryAfter: number,
    message: string,
  ) {
    super(429, "too_many_attempts", message);
  }
}

export const invalid = (field: string, message: string) => new AppError(400, "invalid_" + snake(field), message, field);
export const notFound = (what: string) => new AppError(404, "not_found", `No ${what} with that id.`);
export const unauthorized = () => new AppError(401, "unauthorized", "Sign in or send an API token to use this.");
export const forbidden = (message = "Only an admin can do that.") => new AppError(403, "forbidden", message);

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
}

/** What went wrong, as a sentence, whatever was thrown. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
