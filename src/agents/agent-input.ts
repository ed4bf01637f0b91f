import { type Static, Type } from "@sinclair/typebox";
import { NO_CONTROL_CHARS, optionalText, requiredText } from "../infra/input.ts";
import { EXACT_VERSION, MAX_PACKAGE_NAME, PACKAGE_NAME } from "../npm/registry.ts";
import { AGENT_SERVICES } from "./shipped.ts";

/** An agent's id, as sessions and runs name it (`agent: "opencode"`): lowercase words joined by hyphens. */
export const AGENT_ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const MAX_ID = 40;
const MAX_NAME = 80;
const MAX_COMMAND = 1000;
const MAX_ARGS = 100;
const MAX_ARG = 4000;

const id = {
  maxLength: MAX_ID,
  pattern: AGENT_ID.source,
  rule: `Id must be lowercase letters and digits in words joined by single hyphens (such as opencode or my-agent), at most ${MAX_ID} characters.`,
};
const name = {
  trim: true,
  minLength: 1,
  maxLength: MAX_NAME,
  pattern: NO_CONTROL_CHARS,
  rule: { minLength: "Name must not be empty.", maxLength: `Name must be one line of at most ${MAX_NAME} characters.`, pattern: `Name must be one line of at most ${MAX_NAME} characters.` },
  description: "How pages name the agent.",
};
const packageName = {
  maxLength: MAX_PACKAGE_NAME,
  pattern: PACKAGE_NAME.source,
  rule: "Package must be an npm package name, such as opencode-ai or @google/gemini-cli.",
  description: "The npm package Pier supplies to pods (its program), with version.",
};
const version = {
  pattern: EXACT_VERSION.source,
  rule: "Version must be an exact version of the package, such as 1.18.32 (no range, no tag such as latest).",
  description: "The package's exact version, checked on the npm registry.",
};
const command = {
  maxLength: MAX_COMMAND,
  // One word: the program alone, found on the pod's PATH or an absolute path.
  pattern: "^[^\\s\\x00-\\x1f\\x7f=]+$",
  rule: `Command must be the program alone, already in the pod's image (a name on its PATH or an absolute path, without spaces), at most ${MAX_COMMAND} characters; its arguments go in args.`,
  description: "A program already in the pod's image, instead of a package.",
};
const args = Type.Optional(
  Type.Array(Type.String({ maxLength: MAX_ARG, pattern: NO_CONTROL_CHARS, rule: `Each argument must be one line of at most ${MAX_ARG} characters.` }), {
    title: "Arguments",
    error: "Args must be a list of text, one item per argument.",
    maxItems: MAX_ARGS,
    rule: `At most ${MAX_ARGS} arguments.`,
    description: "What the program is started with to speak the Agent Client Protocol over stdio (opencode: acp).",
  }),
);
const service = Type.Optional(
  Type.Union(
    AGENT_SERVICES.map((value) => Type.Literal(value)),
    {
      title: "Service",
      error: `Service must be one of ${AGENT_SERVICES.join(", ")}: the model API the agent's requests go to through Pier's gateway (none: Pier does not point it at one).`,
    },
  ),
);

/** A new agent (POST /api/config/agents). For the id of an agent Pier ships, what is left out is Pier's own definition. */
export const NewAgentInput = Type.Object({
  id: requiredText("Id", id),
  name: optionalText("Name", name),
  package: optionalText("Package", packageName),
  version: optionalText("Version", version),
  command: optionalText("Command", command),
  args,
  service,
});
export type NewAgentInput = Static<typeof NewAgentInput>;

/**
 * Changes to an agent (PATCH /api/config/agents/:id); what is left out stays. A package given
 * replaces the command, and a command the package and version: an agent is one or the other.
 */
export const AgentChangesInput = Type.Object({
  name: optionalText("Name", name),
  package: optionalText("Package", packageName),
  version: optionalText("Version", version),
  command: optionalText("Command", command),
  args,
  service,
});
export type AgentChangesInput = Static<typeof AgentChangesInput>;
