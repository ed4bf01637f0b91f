import { Type } from "@sinclair/typebox";
import { CHAT_ENGINES } from "./tables.ts";

/** The chat engine a session, a run or a trigger asks for, in every schema that takes one. */
export const EngineField = Type.Union(
  CHAT_ENGINES.map((engine) => Type.Literal(engine)),
  { title: "Engine", error: 'Engine must be "pier" (Pier\'s agent) or "claude-code" (Claude Code in the pod).' },
);
