import { Elysia } from "elysia";
import { personActor } from "../../auth/actor.ts";
import { publicAuditEntry } from "../../audit/entry.ts";
import type { Pier } from "../../pier.ts";
import { emptyForm } from "../../../views/components.tsx";
import { AuditPage } from "../../../views/audit-views.tsx";
import { formFailure, pageAdmin } from "./respond.ts";

const FILTERS = ["actor", "action", "from", "to"] as const;

/** The Audit page, for admins (members 403): GET /api/audit's own query, its filters kept in the URL. */
export function auditPages(pier: Pier) {
  return new Elysia().get("/audit", (ctx) => {
    const viewer = pageAdmin(pier, ctx);
    const actor = personActor(viewer);
    const params = new URL(ctx.request.url).searchParams;
    // An empty field of the form means "any": left out of the query rather than matched.
    const values = Object.fromEntries([...FILTERS, "cursor"].flatMap((key) => (params.get(key) ? [[key, params.get(key)!]] : [])));
    const filters = new URLSearchParams(Object.entries(values).filter(([key]) => key !== "cursor"));
    const common = {
      viewer,
      runtime: pier.runtime.kind,
      people: pier.users.list(actor).map((user): [string, string] => [user.id, user.username]),
      csv: `/api/audit?${new URLSearchParams([...filters, ["format", "csv"]])}`,
      filtered: filters.size > 0,
      retentionDays: pier.settings.plain().auditRetentionDays,
    };
    try {
      const page = pier.audit.page(actor, { limit: "50", ...values });
      const next = page.next ? `/audit?${new URLSearchParams([...filters, ["cursor", page.next]])}` : null;
      return <AuditPage {...common} entries={page.entries.map(publicAuditEntry)} form={{ ...emptyForm, values }} next={next} />;
    } catch (error) {
      return <AuditPage {...common} entries={[]} form={formFailure(error, values, ctx.set)} next={null} />;
    }
  });
}
