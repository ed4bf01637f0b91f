import { Elysia } from "elysia";
import { readInput } from "../../infra/input.ts";
import type { Pier } from "../../pier.ts";
import { ApprovalAnswerInput } from "../../policies/approvals.ts";
import { ToolPolicyInput } from "../../policies/policy.ts";
import { requireActor } from "../auth.ts";

/**
 * Tool policies (the instance's, and a repo's override: null inherits) and the approvals a
 * session's agent waits for. Answering here is the same as the chat socket's approval message,
 * for a page or script without the socket.
 */
export function policyApi(pier: Pier) {
  const { policies, approvals } = pier;
  return new Elysia({ prefix: "/api" })
    .get("/config/tool-policies", (ctx) => policies.global(requireActor(pier, ctx)))
    .put("/config/tool-policies", (ctx) => policies.setGlobal(requireActor(pier, ctx), readInput(ToolPolicyInput, ctx.body)))
    .get("/repos/:id/tool-policy", (ctx) => policyOrNull(policies.forRepo(requireActor(pier, ctx), ctx.params.id)))
    .put("/repos/:id/tool-policy", (ctx) => {
      const actor = requireActor(pier, ctx);
      const input = ctx.body === null || ctx.body === "null" ? null : readInput(ToolPolicyInput, ctx.body);
      return policyOrNull(policies.setForRepo(actor, ctx.params.id, input));
    })
    .get("/sessions/:id/approvals", (ctx) => approvals.pendingFor(requireActor(pier, ctx), ctx.params.id))
    .post("/sessions/:id/approvals/:callId", (ctx) =>
      approvals.answer(requireActor(pier, ctx), ctx.params.id, ctx.params.callId, readInput(ApprovalAnswerInput, ctx.body)),
    );
}

/** A JSON null, which Elysia would otherwise answer as an empty body. */
function policyOrNull<T>(value: T | null): T | Response {
  return value ?? Response.json(null);
}
