import type { AuditLog } from "../audit/audit-log.ts";
import type { SettingsStore } from "../settings/settings.ts";
import type { Scheduler } from "./scheduler.ts";

const DROP_EVERY_MS = 60 * 60_000;

export const DROP_OLD_AUDIT_ENTRIES = "drop old audit entries";

/** Keeps the audit log to `auditRetentionDays` (365 by default): entries older than that go, hourly. */
export function scheduleAuditJobs(scheduler: Scheduler, deps: { audit: AuditLog; settings: SettingsStore }): void {
  scheduler.every(DROP_OLD_AUDIT_ENTRIES, DROP_EVERY_MS, async () => deps.audit.dropOlderThan(deps.settings.plain().auditRetentionDays));
}
