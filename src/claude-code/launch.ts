/** How Claude Code is started for a session, in its pod: which program, and what only its process gets. */
export interface ClaudeCodeLaunch {
  /** The program in the pod: the image's own `claude`, or the copy Pier supplies. */
  command: string;
  /** Environment for the Claude Code process alone (where the API is, and how it authenticates). */
  env: Record<string, string>;
  /** True when Pier's gateway meters its model requests; otherwise the engine records usage itself. */
  meteredByGateway: boolean;
  /** Said on the session page when Pier cannot gate or supply as it should (e.g. the fallback), else null. */
  notice: string | null;
}
