import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Elysia } from "elysia";
import { writeBackupAside } from "../../backups/backup-process.ts";
import { AppError } from "../../infra/errors.ts";
import type { Pier } from "../../pier.ts";
import { requireActor, requireAdmin } from "../auth.ts";

/** GET /api/admin/backup: the archive `bun run backup` writes, as a download, for admins only; each one taken goes in the audit log. */
export function backupApi(pier: Pier) {
  return new Elysia({ prefix: "/api/admin" }).get("/backup", async (ctx) => {
    requireAdmin(pier, ctx);
    const actor = requireActor(pier, ctx);
    const dir = mkdtempSync(join(tmpdir(), "pier-backup-download-"));
    const file = join(dir, "backup.tar.gz");
    try {
      await writeBackupAside(pier.config.dataDir, file);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw new AppError(500, "backup_failed", `The backup could not be made: ${error instanceof Error ? error.message : String(error)}`);
    }
    const name = `pier-backup-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-")}.tar.gz`;
    pier.audit.record(actor, "backup_taken", { kind: "backup", id: null, name });
    return new Response(removedWhenRead(Bun.file(file).stream(), dir), {
      headers: {
        "content-type": "application/gzip",
        "content-disposition": `attachment; filename="${name}"`,
        "content-length": String(Bun.file(file).size),
        "cache-control": "no-store",
      },
    });
  });
}

/** The archive's bytes, its temporary directory removed once they are all sent or the download is given up. */
function removedWhenRead(bytes: ReadableStream<Uint8Array>, dir: string): ReadableStream<Uint8Array> {
  const reader = bytes.getReader();
  const remove = () => rmSync(dir, { recursive: true, force: true });
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const read = await reader.read();
        if (read.done) {
          remove();
          controller.close();
        } else controller.enqueue(read.value);
      } catch (error) {
        remove();
        controller.error(error);
      }
    },
    cancel(reason) {
      remove();
      return reader.cancel(reason);
    },
  });
}
