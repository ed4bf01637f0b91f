import { Type } from "@sinclair/typebox";
import { readFrame } from "../infra/input.ts";
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
  return readFrame(body, CLIENT_MESSAGES, {
    notJson: "Messages must be JSON: {\"type\":\"input\",\"data\":\"…\"} or {\"type\":\"resize\",\"cols\":N,\"rows\":N}.",
    notObject: "Messages must be JSON objects with a type.",
    unknownType: (type) => `Unknown message type ${JSON.stringify(type)}; use input or resize.`,
  });
}
