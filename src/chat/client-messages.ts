import { Type } from "@sinclair/typebox";
import { readFrame } from "../infra/input.ts";
import { ApprovalAnswerInput } from "../policies/approvals.ts";
import { type ClientMessage, MAX_MESSAGE_CHARS } from "./protocol.ts";

/**
 * The chat socket's client messages as schemas (the browser bundle keeps to protocol.ts's types,
 * without TypeBox). An approval's answer is ApprovalAnswerInput's, as POST …/approvals/:callId
 * reads it; the socket words its refusals as its protocol always has.
 */
const answer = ApprovalAnswerInput.properties;
const CLIENT_MESSAGES = {
  message: Type.Object({
    type: Type.Literal("message"),
    text: Type.String({
      // Not only spaces: text that is reads as none (so its sentence is `error`'s).
      pattern: "\\S",
      maxLength: MAX_MESSAGE_CHARS,
      error: "A message needs text.",
      rule: { maxLength: `A message may be at most ${MAX_MESSAGE_CHARS} characters.` },
    }),
  }),
  interrupt: Type.Object({ type: Type.Literal("interrupt") }),
  approval: Type.Object({
    type: Type.Literal("approval"),
    id: Type.String({ minLength: 1, error: "An approval needs the id of the approval_request it answers." }),
    allow: { ...answer.allow, error: "An approval needs allow: true or false." },
    scope: { ...answer.scope, error: 'An approval\'s scope is "once" or "session".' },
  }),
};

/** The client's message (a text frame, or the JSON already parsed from one), or a sentence saying what is wrong with it. */
export function parseClientMessage(body: unknown): ClientMessage | string {
  return readFrame(body, CLIENT_MESSAGES, {
    notJson: 'Messages must be JSON: {"type":"message","text":"…"}, {"type":"interrupt"} or {"type":"approval","id":"…","allow":true}.',
    unknownType: (type) => `Unknown message type ${JSON.stringify(type)}; use message, interrupt or approval.`,
  });
}
