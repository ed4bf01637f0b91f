import { Type } from "@sinclair/typebox";
import { readMessage } from "../infra/input.ts";
import { type ClientMessage, MAX_DIMENSION } from "./protocol.ts";

/** The terminal socket's client messages as schemas (the browser bundle keeps to protocol.ts, which imports nothing). */
const RESIZE_RULE = `A resize needs whole numbers cols and rows from 1 to ${MAX_DIMENSION}.`;
const dimension = Type.Integer({ minimum: 1, maximum: MAX_DIMENSION, error: RESIZE_RULE });
const CLIENT_MESSAGES = {
  input: Type.Object({ type: Type.Literal("input"), data: Type.String({ error: "An input message needs data as a string." }) }),
  resize: Type.Object({ type: Type.Literal("resize"), cols: dimension, rows: dimension }),
};

/** The client's message (a text frame, or the JSON already parsed from one), or a sentence saying what is wrong with it. */
export function parseClientMessage(body: unknown): ClientMessage | string {
  let value = body;
  if (typeof body === "string") {
    try {
      value = JSON.parse(body);
    } catch {
      return "Messages must be JSON: {\"type\":\"input\",\"data\":\"…\"} or {\"type\":\"resize\",\"cols\":N,\"rows\":N}.";
    }
  }
  if (!value || typeof value !== "object") return "Messages must be JSON objects with a type.";
  const message = value as Record<string, unknown>;
  return readMessage(CLIENT_MESSAGES, message) ?? `Unknown message type ${JSON.stringify(message.type)}; use input or resize.`;
}
