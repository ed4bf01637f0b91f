import type Docker from "dockerode";

/** Follows an engine's stream of progress events (a pull, a build, a load) to its end, each event to `onEvent`; an event carrying an error fails it. */
export function followProgress<E>(docker: Docker, stream: NodeJS.ReadableStream, onEvent: (event: E) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null, events: Array<{ error?: string }>) => {
        const failed = events?.find((e) => e.error);
        if (error || failed) reject(error ?? new Error(failed!.error));
        else resolve();
      },
      (event: E) => {
        try {
          onEvent(event);
        } catch (error) {
          reject(error);
        }
      },
    );
  });
}

/** What the engine said of a failed request, else the error's own message. */
export function dockerMessage(error: Error & { json?: { message?: string } }): string {
  return error.json?.message ?? error.message;
}
