import { type Static, Type } from "@sinclair/typebox";
import { optionalText, requiredText } from "../infra/input.ts";

/** An engine's name, as repos pin it and pages show it: lowercase words joined by hyphens. */
export const ENGINE_NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;
/** A label an engine carries and a repo may ask for (gpu, arm64, eu-west). */
export const ENGINE_LABEL = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const MAX_NAME = 40;
const MAX_HOST = 500;
const MAX_LABELS = 20;
export const MAX_CAPACITY = 10_000;
/** What an engine takes when an admin says nothing: room for a small team's pods. */
export const DEFAULT_CAPACITY = 10;
/** A PEM file of a CA, a certificate or a key: larger is not one. */
const MAX_PEM = 64 * 1024;
const PEM = "^-----BEGIN [A-Z0-9 ]+-----[\\s\\S]+-----END [A-Z0-9 ]+-----\\s*$";

const nameOptions = {
  trim: true,
  maxLength: MAX_NAME,
  pattern: ENGINE_NAME.source,
  rule: `Name must be lowercase letters and digits in words joined by single hyphens (such as build-box-2), at most ${MAX_NAME} characters.`,
  description: "How repos pin the engine and pages name it.",
};

const hostOptions = {
  trim: true,
  maxLength: MAX_HOST,
  rule: `Host must be at most ${MAX_HOST} characters.`,
  description: "Where the engine is, as DOCKER_HOST says it: unix:///path/docker.sock, tcp://host:2376 (with tls) or ssh://user@host.",
};

const pem = (title: string) =>
  requiredText(title, { maxLength: MAX_PEM, pattern: PEM, rule: `${title} must be one PEM file (-----BEGIN … -----END …), at most ${MAX_PEM / 1024} KB.` });

const tlsFiles = Type.Object(
  { ca: pem("TLS CA"), cert: pem("TLS certificate"), key: pem("TLS key") },
  { title: "TLS", error: "TLS must be an object with ca, cert and key, each a PEM file: the engine's CA and Pier's client certificate and key." },
);

const capacity = Type.Optional(
  Type.Integer({
    title: "Capacity",
    minimum: 1,
    maximum: MAX_CAPACITY,
    error: `Capacity must be a whole number of pods from 1 to ${MAX_CAPACITY}.`,
    rule: `Capacity must be a whole number of pods from 1 to ${MAX_CAPACITY}.`,
    description: `How many pods the engine should take (${DEFAULT_CAPACITY} unless said); new pods go where the most room is left.`,
  }),
);

const labels = Type.Optional(
  Type.Array(Type.String({ pattern: ENGINE_LABEL.source, rule: "Each label must be lowercase letters, digits, '.', '-' or '_', at most 63 characters, such as gpu." }), {
    title: "Labels",
    error: "Labels must be a list of words, such as [\"gpu\", \"arm64\"].",
    maxItems: MAX_LABELS,
    rule: `At most ${MAX_LABELS} labels.`,
    description: "A repo that asks for labels has its pods placed only on engines carrying all of them.",
  }),
);

const draining = Type.Optional(Type.Boolean({ title: "Draining", error: "Draining must be true or false.", description: "A draining engine gets no new pods; its pods stay." }));

/** A new engine (POST /api/config/docker-engines). */
export const NewDockerEngineInput = Type.Object({
  name: requiredText("Name", nameOptions),
  host: requiredText("Host", hostOptions),
  tls: Type.Optional(tlsFiles),
  capacity,
  labels,
  draining,
});
export type NewDockerEngineInput = Static<typeof NewDockerEngineInput>;

/** Changes to an engine (PATCH /api/config/docker-engines/:id); what is left out stays, and `tls: false` removes the client certificate. */
export const DockerEngineChangesInput = Type.Object({
  name: optionalText("Name", nameOptions),
  host: optionalText("Host", hostOptions),
  tls: Type.Optional(Type.Union([tlsFiles, Type.Literal(false)], { title: "TLS", error: tlsFiles.error + " Or false, to remove them." })),
  capacity,
  labels,
  draining,
});
export type DockerEngineChangesInput = Static<typeof DockerEngineChangesInput>;

export type TlsFiles = Static<typeof tlsFiles>;

/** Where a pod is moved to: an engine's id or name. */
export const MovePodInput = Type.Object({
  dockerEngine: requiredText("dockerEngine", { trim: true, maxLength: 100, rule: "dockerEngine must be an engine's id or name, at most 100 characters.", description: "The Docker engine to move the pod to: its id or name." }),
});
export type MovePodInput = Static<typeof MovePodInput>;
