import type Docker from "dockerode";
import { Transform } from "node:stream";
import { dockerMessage, followProgress } from "./docker-progress.ts";
import type { Progress } from "./runtime.ts";

/**
 * Copies an image from one engine to another as `docker save | docker load` does, streamed
 * through Pier (no registry is needed, and nothing is written to Pier's disk): the image's tar
 * from the first engine's API straight into the second's. The bytes that have gone over, against
 * the image's size, are the progress shown on the session page.
 */
export async function copyImage(from: Docker, to: Docker, image: string, engineName: string, progress: Progress): Promise<void> {
  const size = (await from.getImage(image).inspect()).Size || 0;
  const message = `Copying ${image} to the Docker engine ${engineName}…`;
  progress({ step: "image", message, fraction: 0 });
  let sent = 0;
  let shown = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sent += chunk.length;
      // The saved tar is a little larger than the image's size: never past 99 % until loaded.
      const fraction = size > 0 ? Math.min(0.99, sent / size) : 0;
      if (fraction - shown >= 0.01) {
        shown = fraction;
        progress({ step: "image", message, fraction });
      }
      done(null, chunk);
    },
  });
  try {
    const saved = await from.getImage(image).get();
    saved.on("error", (error: Error) => counted.destroy(error));
    saved.pipe(counted);
    const loading = await to.loadImage(counted, { quiet: true });
    await followProgress(to, loading, () => {});
  } catch (error) {
    throw new Error(`Could not copy ${image} to the Docker engine ${engineName}: ${dockerMessage(error as Error)}`);
  }
  progress({ step: "image", message: `Copied ${image} to the Docker engine ${engineName}.`, fraction: 1 });
}
