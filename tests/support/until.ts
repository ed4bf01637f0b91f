/**
 * Reads `read` every 100 ms until `ok` holds of what it returns, and returns that; past
 * `timeoutMs` it throws, naming `what` and the last value read.
 */
export async function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
    await Bun.sleep(100);
  }
}
