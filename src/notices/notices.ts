import { createHash } from "node:crypto";
import { UNREACHABLE_NOTICE } from "../gateway/gateway.ts";
import type { AgentService } from "../agents/shipped.ts";
import type { Session } from "../sessions/session.ts";

/**
 * The notices a person may dismiss: standing facts about how this Pier runs, which say the same
 * wherever they show, so once read they need not take a phone's screen again. A notice's id names
 * what it is about; its words are its facts, and a dismissal holds only while they stay the same
 * (see `fingerprint`), so a notice that comes to say something new shows again.
 */
export const NOTICES = {
  "gateway-unreachable": UNREACHABLE_NOTICE,
  "mcp-unreachable":
    "Claude Code in this terminal cannot reach Pier's MCP endpoint: pods here have no network. The chat beside it still updates the task; to let the terminal do it too, set `PIER_POD_URL` or give pods a network.",
  // With Claude Code as the chat engine, the chat reaches the task only through that endpoint too.
  "mcp-unreachable-claude-code":
    "Claude Code cannot reach Pier's MCP endpoint, in the chat or in this terminal: pods here have no network, so neither updates the task. To let them, set `PIER_POD_URL` or give pods a network.",
  // A coding agent over ACP, where pods cannot reach the gateway: Pier hands it the credential instead.
  "gateway-unreachable-agent":
    "Pods cannot reach Pier here (their network is none), so the chat's agent gets your credential for its model service in its own process's environment and what it spends is not metered or held to a budget. To meter it, set `PIER_POD_URL` or give pods a network.",
  // An agent defined with the service none: Pier does not point it at any model service.
  "agent-not-metered":
    "This chat's agent is not pointed at Pier's model gateway (its model service is none): it answers with its own model and credentials, and what it spends is not metered or held to a budget.",
} as const;

export type NoticeId = keyof typeof NOTICES;

export const NOTICE_IDS = Object.keys(NOTICES) as NoticeId[];

export interface Notice {
  id: NoticeId;
  text: string;
}

export function noticeOf(id: NoticeId): Notice {
  return { id, text: NOTICES[id] };
}

/** What a notice says, as a short hash: a dismissal is of these words, not of the id alone. */
export function fingerprint(id: NoticeId): string {
  return createHash("sha256").update(NOTICES[id]).digest("hex").slice(0, 16);
}

/**
 * The standing notices a live session's page shows. Most are about pods that cannot reach Pier:
 * the MCP endpoint matters to a session with a task, the model gateway only to a session whose
 * chat is an agent in the pod (Claude Code, or an ACP agent: Pier's own agent runs in Pier and
 * needs neither). An ACP agent whose model service is none (`agentService`, null when its
 * definition is gone) is never metered, wherever pods are.
 */
export function sessionNotices(session: Pick<Session, "state" | "engine" | "taskId">, podsReachPier: boolean, agentService: AgentService | null = null): NoticeId[] {
  if (session.state !== "active") return [];
  const unmeteredAgent = session.engine === "acp" && agentService === "none";
  if (podsReachPier) return unmeteredAgent ? ["agent-not-metered"] : [];
  const claudeCodeChat = session.engine === "claude-code";
  const notices: NoticeId[] = [];
  if (session.taskId) notices.push(claudeCodeChat ? "mcp-unreachable-claude-code" : "mcp-unreachable");
  if (claudeCodeChat) notices.push("gateway-unreachable");
  if (session.engine === "acp" && agentService !== null) notices.push(unmeteredAgent ? "agent-not-metered" : "gateway-unreachable-agent");
  return notices;
}
