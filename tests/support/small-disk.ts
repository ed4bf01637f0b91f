import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A small file system of the test's own (a tmpfs it mounts, so filling it never touches the
 * machine's disk), which it can fill to the last byte and free again.
 */
export class SmallDisk {
  private constructor(readonly path: string) {}

  static mount(sizeMb: number): SmallDisk {
    const path = mkdtempSync(join(tmpdir(), "pier-fault-"));
    const mounted = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", `size=${sizeMb}m,mode=0755`, "tmpfs", path]);
    if (mounted.exitCode !== 0) throw new Error(`could not mount a tmpfs (the fault tests run as root): ${mounted.stderr.toString()}`);
    return new SmallDisk(path);
  }

  /** Free bytes, as statfs says. */
  freeBytes(): number {
    const stats = statfsSync(this.path);
    return stats.bavail * stats.bsize;
  }

  /** Writes `file` until the disk refuses another byte, or until only about `leaveBytes` are free. */
  fill(file = join(this.path, "filler"), leaveBytes = 0): string {
    const fd = openSync(file, "a");
    try {
      for (const chunk of [1024 * 1024, 4096, 1]) {
        const bytes = Buffer.alloc(chunk, 0x78);
        try {
          while (this.freeBytes() - chunk >= leaveBytes) writeSync(fd, bytes);
          if (leaveBytes > 0) break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
        }
      }
    } finally {
      closeSync(fd);
    }
    return file;
  }

  free(file = join(this.path, "filler")): void {
    unlinkSync(file);
  }

  unmount(): void {
    Bun.spawnSync(["umount", "-l", this.path]);
    rmSync(this.path, { recursive: true, force: true });
  }
}
