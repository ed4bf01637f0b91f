/**
 * remoteEnv may build on the container's own environment (`"PATH": "${containerEnv:PATH}:/opt/x"`,
 * the common case); shells and commands get it as plain variables, so the pod's environment is
 * put in once, when the pod is made. A variable the pod lacks becomes its default, or nothing.
 */
export function withContainerEnv(remoteEnv: Record<string, string>, container: Record<string, string>): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const [name, value] of Object.entries(remoteEnv)) {
    resolved[name] = value.replace(/\$\{containerEnv:([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}/g, (_, variable: string, fallback?: string) => container[variable] ?? fallback ?? "");
  }
  return resolved;
}

/** The `NAME=value` lines `env` prints, as a map (a value with a newline in it keeps its first line only). */
export function parseEnvOutput(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(line.slice(0, eq))) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}
