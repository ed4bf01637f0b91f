import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { CredentialSockets } from "./auth/credential-sockets.ts";
import { ClaudeCodeBuilds } from "./claude-code/builds.ts";
import { ClaudeCodeSupply, buildDir, hostVariant } from "./claude-code/supply.ts";
import { AgentBuilds } from "./agents/agent-builds.ts";
import { hostAgentFacts } from "./agents/agent-facts.ts";
import { AgentSupply } from "./agents/agent-supply.ts";
import { Agents } from "./agents/agents.ts";
import { PackageDocs } from "./agents/package-docs.ts";
import { LoginLimiter } from "./auth/login-limiter.ts";
import { deleteExpiredSignIns } from "./auth/sign-ins.ts";
import { countUsers, hasAnyUser } from "./auth/users.ts";
import { ApiTokens } from "./auth/api-token-door.ts";
import { SignIns } from "./auth/sign-in-door.ts";
import { Users } from "./auth/user-door.ts";
import { Costs } from "./costs/cost-door.ts";
import { Repos } from "./repos/repo-door.ts";
import { catchUpRollups } from "./costs/cost-rollups.ts";
import { recordLeftoverUsage } from "./costs/usage-in-flight.ts";
import type { Config } from "./infra/config.ts";
import { type Db, openDatabase, pingDatabase } from "./infra/db.ts";
import { EventBus } from "./infra/events.ts";
import { AppError, errorMessage } from "./infra/errors.ts";
import { GitHub } from "./github/client.ts";
import { githubWeb } from "./github/web.ts";
import { PullRequests } from "./prs/pull-requests.ts";
import { Tasks } from "./tasks/tasks.ts";
import { Verifications } from "./tasks/verification.ts";
import { McpEndpoint } from "./mcp-endpoint/endpoint.ts";
import { Gateway, type GatewayEnv } from "./gateway/gateway.ts";
import type { ModelServiceName } from "./gateway/model-service.ts";
import { BudgetGate } from "./costs/budget-gate.ts";
import { terminalGatewayEnv } from "./gateway/claude-settings.ts";
import { AgentMcpServers } from "./mcp-servers/agent-servers.ts";
import { McpServers } from "./mcp-servers/mcp-servers.ts";
import { taskTools } from "./tools/registry.ts";
import { TaskFeedback } from "./tasks/feedback.ts";
import { watchForPullRequests, watchTerminalsForPullRequests } from "./prs/link-listeners.ts";
import { createSecretBox, loadOrCreateSecretKey } from "./infra/secret-box.ts";
import { Metrics } from "./observability/metrics.ts";
import { PierAskBuild } from "./pods/pier-ask.ts";
import { traceStartsTo } from "./observability/start-trace.ts";
import { PodServices } from "./pods/pod-services.ts";
import { PodCredentials } from "./pods/pod-credentials.ts";
import { MirrorHttp } from "./mirror-http/mirror-http.ts";
import { removeImportedLegacyClones, retireLegacyLayout } from "./pods/legacy-layout.ts";
import { DiskWatch } from "./pods/disk-watch.ts";
import { PierAddress } from "./pods/pier-address.ts";
import { Pods } from "./pods/pods.ts";
import { Mirrors } from "./repos/mirrors.ts";
import { type RepoRules, fillGithubRepos, getRepo, listRepos } from "./repos/repos.ts";
import { chooseRuntime, dockerClient } from "./runtime/detect.ts";
import { DockerRuntime } from "./runtime/docker-runtime.ts";
import { DockerEngines, LOCAL_ENGINE } from "./docker-engines/docker-engines.ts";
import { BridgeBuild } from "./bridge/bridge-build.ts";
import { Bridges } from "./bridge/bridges.ts";
import { PlacedRuntime } from "./docker-engines/placed-runtime.ts";
import { MoveRecords } from "./docker-engines/move-records.ts";
import { PodMoves } from "./docker-engines/pod-moves.ts";
import { WATCH_EVERY_MS } from "./docker-engines/engine-watch.ts";
import { Environments } from "./environments/environments.ts";
import { EnvironmentImages } from "./environments/image-build.ts";
import { LocalRuntime } from "./runtime/local-runtime.ts";
import type { FileOwner, PodKey, Runtime } from "./runtime/runtime.ts";
import { SessionHosts } from "./sessions/hosts.ts";
import { Sessions } from "./sessions/sessions.ts";
import { addSessionCost } from "./sessions/session-cost.ts";
import type { Session } from "./sessions/session.ts";
import { sessionFiles } from "./sessions/session-files.ts";
import { SessionReads } from "./sessions/session-reads.ts";
import { Reviews } from "./reviews/reviews.ts";
import { Credentials } from "./settings/credentials.ts";
import { Skills } from "./skills/skills.ts";
import { SettingsStore } from "./settings/settings.ts";
import { PtyHolderBuild } from "./terminal/holder/build.ts";
import { HolderHub } from "./terminal/holder/holder-stream.ts";
import { Terminals } from "./terminal/terminals.ts";
import { Chats, noteInChat } from "./chat/chats.ts";
import { AnthropicEngine } from "./chat/engines/anthropic.ts";
import { AcpEngine } from "./chat/engines/acp.ts";
import { ClaudeCodeEngine } from "./chat/engines/claude-code.ts";
import { schedulePodJobs, RECONCILE_PODS } from "./jobs/pod-jobs.ts";
import { schedulePrJobs } from "./jobs/pr-jobs.ts";
import { scheduleRunJobs } from "./jobs/run-jobs.ts";
import { Rounds } from "./runs/rounds.ts";
import { type PublicRun, Runs } from "./runs/runs.ts";
import { runBudgetOfSession } from "./runs/run-query.ts";
import { scheduleDiskJobs } from "./jobs/disk-jobs.ts";
import { Scheduler } from "./jobs/scheduler.ts";
import { WARM_PODS, scheduleEnvironmentJobs } from "./jobs/environment-jobs.ts";
import { DELETE_EXPIRED_TOKENS, scheduleTokenJobs } from "./jobs/token-jobs.ts";
import { ToolRegistry, builtInTools } from "./tools/registry.ts";
import { ToolPolicies } from "./policies/policies.ts";
import { Approvals } from "./policies/approvals.ts";
import { Attention } from "./attention/attention.ts";
import { AttentionFlags } from "./attention/flags.ts";
import { Webhooks } from "./attention/webhooks.ts";
import { Dismissals } from "./notices/dismissals.ts";
import { Triggers } from "./triggers/triggers.ts";
import { TriggerFiring } from "./triggers/firing.ts";
import { Schedules } from "./triggers/schedules.ts";
import { GitHubIssueTriggers } from "./triggers/github-issues.ts";
import { IssueReplies } from "./triggers/issue-replies.ts";
import { RelayBuild } from "./previews/relay-build.ts";
import { RelayHub } from "./previews/relay-hub.ts";
import { Relays } from "./previews/relays.ts";
import { PreviewPorts } from "./previews/ports.ts";
import { Previews } from "./previews/previews.ts";
import { LocalDialer, refusingPierPorts } from "./previews/dialer.ts";
import { PreviewProxy } from "./previews/proxy.ts";
import { Splicer } from "./previews/splicer.ts";
import { SingleSignOn } from "./sso/single-sign-on.ts";
import { AuditLog } from "./audit/audit-log.ts";
import { recordHeardEvents } from "./audit/heard.ts";
import { scheduleAuditJobs } from "./jobs/audit-jobs.ts";
import { Push } from "./push/push.ts";

/**
 * The long-lived parts of a running Pier, built once at start and handed to the web layer: every
 * domain through its door, never the database itself.
 */
export interface Pier {
  config: Config;
  /** Domain events, published after the write they announce; sockets and pages subscribe. */
  bus: EventBus;
  settings: SettingsStore;
  /** Each person's own credentials, else the instance's. */
  credentials: Credentials;
  /** The pull requests opened during sessions. */
  prs: PullRequests;
  tasks: Tasks;
  /** Skills, each repo's skill policy, and the agent's proposals. */
  skills: Skills;
  /** Unattended runs of tasks, from the task to an approved (and maybe merged) pull request. */
  runs: Runs;
  /** Tasks' AI verification reports. */
  verifications: Verifications;
  /** Pier's MCP endpoint (the task tools, for Claude Code in a session). */
  mcp: McpEndpoint;
  /** The MCP servers sessions get (global or per repo). */
  mcpServers: McpServers;
  /** Repos' mirrors, read-only over git's smart HTTP, each to its own pods' credentials (/git/<repo id>.git). */
  mirrorHttp: MirrorHttp;
  /** Pier as the model gateway for its pods: agents' requests to Anthropic's, OpenAI's and Gemini's APIs, forwarded with the real credential and metered. */
  gateway: Gateway;
  /** The budgets (a run's, each session's, the monthly hard stop) every model request of a session passes. */
  budgets: BudgetGate;
  /**
   * How an agent's process of the session reaches a model service (Anthropic's unless named, as
   * Claude Code's does): through the gateway (metered) when pods reach Pier, else with the real
   * credential in its environment alone (see ClaudeCodeLaunch and Gateway.envFor).
   */
  gatewayEnvFor(session: Session, service?: ModelServiceName): Promise<GatewayEnv>;
  /** Where pods reach Pier, or null when they cannot (network none); known once Pier listens. */
  podUrl(): string | null;
  /** Pier listens on this port now (PIER_PORT=0 picks one). */
  listening(port: number): void;
  /** The door to GitHub (its rate-limit state shows on pages). */
  github: GitHub;
  runtime: Runtime;
  /** The Docker engines pods are placed on: the local one and the ones admins add. */
  dockerEngines: DockerEngines;
  pods: Pods;
  /** Moving a person's pod to another Docker engine (admins), its workspace copied. */
  podMoves: PodMoves;
  /**
   * Connections to ports listening in pods (each pod's relay), and what listens there, for web
   * app previews; null on the local runtime, whose ports are the server's own.
   */
  relays: Relays | null;
  /** Which ports listen in each pod (from its relay, else by looking), with the repository's labels for them. */
  previewPorts: PreviewPorts;
  /** Web app previews: the ports listening in a session's pod, opening them on their own origins, share links, and who the preview listener admits. */
  previews: Previews;
  /** Web app previews' HTTP and WebSockets, carried to ports in pods; the preview listener hands it what \`previews.access\` admits. */
  previewProxy: PreviewProxy;
  /** The preview listener listens on this port now (PIER_PREVIEW_PORT=0 picks one). */
  previewListening(port: number): void;
  /** Repositories' environments: what pods are made from, whether a person's is outdated, rebuilds. */
  environments: Environments;
  /** Pier's own copies of Claude Code, for pods whose image has none. */
  claudeCode: ClaudeCodeSupply;
  /** The program to run as `claude` in the session's pod: the image's own, else Pier's copy (fetched first if need be). */
  claudeCodeCommandFor(session: { repoId: string; userId: string }): Promise<string>;
  /** The coding agents the ACP engine runs (shipped and admins'), and how to start one in a pod. */
  agents: Agents;
  sessions: Sessions;
  terminals: Terminals;
  chats: Chats;
  /** Review comments on sessions' diffs, sent to their agents as one message. */
  reviews: Reviews;
  /** A rejected task's feedback: a "needs you" for each linked session's person, passed on to their agent as they decide. */
  taskFeedback: TaskFeedback;
  /** Which tools the agent may call, globally and per repo. */
  policies: ToolPolicies;
  /** The tool policy enforced on the agent's calls, and the approvals it waits for. */
  approvals: Approvals;
  /** The live sessions' hosts: their terminals, sockets and progress. */
  hosts: SessionHosts;
  /** Which sessions need their person now ("needs you"), and who is looking. */
  attention: Attention;
  /** Each person's "needs you" webhook. */
  webhooks: Webhooks;
  /** Web Push: Pier's VAPID key, each person's devices, and "needs you" sent to them. */
  push: Push;
  /** The notices each person dismissed. */
  dismissals: Dismissals;
  /** What starts runs without a person at the keyboard: schedules, GitHub issues, webhooks. */
  triggers: Triggers;
  /** A trigger firing: within its limits, a task and a run as its owner, recorded either way. */
  triggerFiring: TriggerFiring<PublicRun>;
  /** GitHub's issue events, as github_issue triggers' occasions. */
  issueTriggers: GitHubIssueTriggers;
  /** What adding or changing a repo is checked against. */
  repoRules: RepoRules;
  credentialSockets: CredentialSockets;
  /** The periodic work (reconciling pods, following pull requests, deleting expired tokens), which can run a job now. */
  jobs: Scheduler;
  metrics: Metrics;
  /** The doors of the domains whose functions take the database: the web layer reaches them only here. */
  repos: Repos;
  users: Users;
  signIns: SignIns;
  /** Single sign-on: OpenID Connect providers, the round trip that signs people in with them, and linked identities. */
  sso: SingleSignOn;
  apiTokens: ApiTokens;
  costs: Costs;
  /** What matters for trust, who did it and from where (issue 27): the domains record in it, admins read it. */
  audit: AuditLog;
  /** True while the database answers a query (/healthz). */
  databaseAnswers(): boolean;
  version: string;
  /** True once any user exists; cached because every page asks. */
  isSetUp(): boolean;
  /**
   * The first step of stopping, while requests under way finish: open pages are told Pier is
   * restarting (their sockets and event streams close, to reconnect by themselves) and turns
   * under way stop, recorded as interrupted.
   */
  stopSessions(): Promise<void>;
  /** The last step: periodic work stops, terminals are let go (shells and pods run on), the database is closed. */
  close(): Promise<void>;
}

/** Pier as openPier makes it: what runs it (the server, the tests) also holds the database. */
export interface OpenedPier extends Pier {
  db: Db;
}

export const VERSION: string = (await Bun.file(join(import.meta.dir, "..", "package.json")).json()).version;

/**
 * How long, when Pier stops, a turn under way has to record its end, and the work under way
 * (provisioning, reports, pods being made) to finish: `docker stop` waits 10 s in all before it
 * kills. What is still running then is picked up at the next start.
 */
const TURN_STOP_GRACE_MS = 3000;
const WORK_STOP_GRACE_MS = 3000;

/** The pod user of Pier's workspace image; files in repo directories belong to it. */
const POD_USER: FileOwner = { uid: 1000, gid: 1000 };

/**
 * Builds Pier's parts and connects them, each after what it needs: build order is dependency
 * order. Where two parts need each other, the later one is connected to the earlier once both
 * exist (pods.onReady, pods.connectEnvironments, services.answerTokens, terminals.onOutput, hosts.connect, address.onMoved).
 */
export async function openPier(config: Config): Promise<OpenedPier> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  traceStartsTo(config.traceFile);
  const db = openDatabase(join(config.dataDir, "pier.db"));
  // Issue 27: audit. First of the parts, since most of the others record in it.
  const audit = new AuditLog(db);
  deleteExpiredSignIns(db);
  catchUpRollups(db);
  const secretKey = loadOrCreateSecretKey(config.dataDir, config.secretKey);
  const box = await createSecretBox(secretKey);
  const settings = new SettingsStore(db, box, config, audit);
  // Pods see their directories through bind mounts the engine makes, never by walking the data
  // dir: nobody but the server's user needs to reach into it.
  chmodSync(config.dataDir, 0o700);
  mkdirSync(config.workspacesDir, { recursive: true, mode: 0o700 });
  const bus = new EventBus();
  const builds = new ClaudeCodeBuilds({ dir: join(config.toolsDir, "claude-code"), registry: config.npmRegistry, bus });
  const ownVariant = hostVariant();
  // The local runtime's commands find Pier's copy last on PATH (the machine's own claude wins).
  const dockerEngines = new DockerEngines({ db, box, audit, localHost: config.dockerHost ?? "unix:///var/run/docker.sock" });
  const runtime = await createRuntime(config, settings, dockerEngines, () => (ownVariant ? buildDir(builds, settings.plain().claudeCodeVersion, ownVariant) : null));
  const address = new PierAddress(config, runtime.kind);
  const githubWebSide = githubWeb(config.githubApiUrl);
  // Only engines pods can be placed on: on the local runtime there are none to pin.
  const repoRules: RepoRules = { allowLocalRepos: config.allowLocalRepos, github: githubWebSide, dockerEngineId: (idOrName) => (runtime.kind === "docker" ? dockerEngines.find(idOrName)?.id ?? null : null) };
  fillGithubRepos(db, repoRules);
  const credentials = new Credentials(db, box, settings, audit);
  const mirrors = new Mirrors(config.dataDir, () => settings.secret("githubToken"));
  const reads = new SessionReads(db);
  const mcpServers = new McpServers({ db, box, bus });
  // Sessions' terminal holders connect here; only a live session of that pod's own person and repo is taken.
  const holders = new HolderHub((pod, sessionId) => reads.isLiveFor(pod, sessionId));
  // Built (or found) now, so the first pod does not wait for the compiler.
  const askBuild = new PierAskBuild({ toolsDir: config.toolsDir, prebuilt: config.askBinary ?? undefined, log: (line) => console.error(line) });
  void askBuild.binary();
  // Previews (issue 26): each pod's relay connects here, and carries connections to its ports.
  const relayHub = runtime.kind === "docker" ? new RelayHub() : null;
  // Each pod's credential for its repo's mirror over smart HTTP (/git): handed out over its services socket, revoked as the pod is removed.
  const podCredentials = new PodCredentials(db);
  // Pier's static programs for pods, built (or found) now so the first pod does not wait for the
  // compiler: the terminal holder, the preview relay, and the bridge of pods on other engines.
  const holderBuild = new PtyHolderBuild({ toolsDir: config.toolsDir, prebuilt: config.ptyBinary ?? undefined, log: (line) => console.error(line) });
  void holderBuild.binary();
  const relayBuild = relayHub && new RelayBuild({ toolsDir: config.toolsDir, prebuilt: config.relayBinary ?? undefined, log: (line) => console.error(line) });
  void relayBuild?.binary();
  const bridgeBuild = runtime.kind === "docker" ? new BridgeBuild({ toolsDir: config.toolsDir, prebuilt: config.bridgeBinary ?? undefined, log: (line) => console.error(line) }) : null;
  void bridgeBuild?.binary();
  // A pod placed on an engine other than the local one reaches Pier's sockets through its bridge.
  const bridged = (key: PodKey) => runtime.kind === "docker" && (dockerEngines.placementOf(key) ?? LOCAL_ENGINE) !== LOCAL_ENGINE;
  const services = new PodServices({
    dataDir: config.dataDir,
    holders,
    relays: relayHub ?? undefined,
    client: askBuild,
    programs: [
      { name: "pier-pty", build: holderBuild },
      { name: "pier-relay", build: relayBuild },
      { name: "pier-bridge", build: bridgeBuild },
    ],
    github: githubWebSide,
    // The token goes only to a pod whose person has a live session of its repo.
    githubToken: async ({ repoId, userId }): Promise<string | null> => (reads.hasLiveSession(repoId, userId) ? credentials.githubToken(userId) : null),
    pierUrl: () => address.podUrl(),
    mirrorCredential: (key) => podCredentials.for(key),
    // A server's secrets reach only a live session of the pod's own person and repo.
    mcpServer: async (pod, sessionId, name) => (reads.isLiveFor(pod, sessionId) ? mcpServers.launch(pod.repoId, name) : null),
    bridged: (key) => bridged(key),
  });
  const pods = new Pods({ db, runtime, dataDir: config.dataDir, workspacesDir: config.workspacesDir, defaultImage: config.workspaceImage, mirrors, services, credentials: podCredentials, pierUrl: () => address.podUrl(),
    inUse: (key, except) => reads.hasLiveSession(key.repoId, key.userId, except),
  });
  // Pods on another Docker engine mount nothing of the server's: each reaches Pier's sockets through
  // a bridge Pier starts in it as it comes up (and again after a restart of Pier); built (or found) now.
  const bridges = bridgeBuild && new Bridges({
    build: bridgeBuild,
    bridged,
    dirOf: (key) => services.dir(key),
    socketOf: (key, name) => (name === "services" ? services.socketPath(key) : name === "holder" ? services.holderSocket(key) : services.relaySocket(key)),
    podOf: (key) => pods.runningShell(key),
  });
  // A pod on another engine is handed out once its bridge has said hello: its first clone asks Pier for its credential through it.
  if (bridges) {
    pods.onConnect((key, shell) =>
      bridges.ensure(key, shell).catch((error: unknown) => {
        throw error instanceof AppError ? error : new AppError(503, "bridge_unavailable", `Your pod runs on another Docker engine and reaches Pier through its bridge, which did not start (${errorMessage(error)}); Pier tries again in a moment.`);
      }),
    );
  }
  const environments = new Environments({ db, mirrors, defaultImage: config.workspaceImage, featureRegistryAllowPrivate: config.featureRegistryAllowPrivate,
    images: runtime.kind === "docker"
      ? new EnvironmentImages({ docker: dockerClient(config.dockerHost), mirrors, scratchDir: join(config.dataDir, "environment-builds"), network: () => config.podNetwork, instanceId: settings.instanceId() })
      : null,
    podFacts: (key) => pods.environmentOf(key),
    // The once-per-pod commands run again in a live session's worktree (the clone is bare).
    recreatePod: (repo, userId, progress) =>
      pods.recreate(repo, userId, progress, reads.allActive().find((s) => s.repoId === repo.id && s.userId === userId)?.worktreePath ?? null),
  });
  pods.connectEnvironments(environments);
  const claudeCode = new ClaudeCodeSupply({
    runtime: runtime.kind,
    builds,
    version: () => settings.plain().claudeCodeVersion,
    podOf: (key) => pods.ensure(getRepo(db, key.repoId), key.userId),
    binDir: (key) => services.claudeCodeDir(key),
    hostFacts: () => {
      // The local runtime's "pod" is this machine: its own claude is the one on the server's PATH.
      const own = Bun.which("claude", { PATH: process.env.PATH ?? "" });
      return { machine: process.arch, variant: ownVariant, own };
    },
  });
  pods.onReady((key, shell) => claudeCode.prepare(key, shell));
  // Agents for the ACP engine: npm packages kept in the tools directory, placed read-only in pods as they start.
  const agentDocs = new PackageDocs(config.npmRegistry, join(config.toolsDir, "agents", "registry"));
  const agents = new Agents({ db, docs: agentDocs, audit,
    supply: new AgentSupply({ runtime: runtime.kind, docs: agentDocs,
      builds: new AgentBuilds({ dir: join(config.toolsDir, "agents"), registry: config.npmRegistry, bus }),
      podDir: (key) => services.agentsDir(key),
      hostFacts: hostAgentFacts,
    }),
  });
  // Previews (issue 26): a pod's relay is started as the pod comes up (a failure is said in the
  // log, and again to whoever previews); built (or found) now, so the first pod does not wait for the compiler.
  const relays = relayHub && relayBuild && new Relays({
    hub: relayHub,
    build: relayBuild,
    dirOf: (key) => services.dir(key),
    socketOf: (key) => services.podRelaySocket(key),
    podOf: (key) => pods.runningShell(key),
  });
  if (relays) pods.onReady((key, shell) => void relays.ensure(key, shell).catch(() => {}));
  // Previews (issue 26): Pier's own ports (its app and the preview listener, as they listen). Where
  // a preview's 127.0.0.1 is the server's own (the local runtime, pods on the host's network) they
  // are never listed nor carried, or a preview would be Pier itself.
  const pierPorts = new Set<number>();
  const sharesServerNetwork = runtime.kind === "local" || config.podNetwork === "host";
  // Which ports listen in each pod, as its relay says, else as the runtime shows (without the processes).
  const previewPorts = new PreviewPorts({
    bus,
    labelsOf: (key) => pods.portLabels(key),
    podOf: (key) => pods.runningShell(key),
    ownPorts: () => (sharesServerNetwork ? [...pierPorts] : []),
  });
  relays?.onPorts((key, ports) => previewPorts.update(key, ports));
  const previewDialer = relays && !sharesServerNetwork ? relays : refusingPierPorts(relays ?? new LocalDialer(), () => pierPorts);
  const agentMcp = new AgentMcpServers({
    servers: mcpServers,
    podOf: async (session) => pods.ensure(getRepo(db, session.repoId), session.userId),
    launcher: (session, name) => [services.mcpLauncher({ repoId: session.repoId, userId: session.userId }), session.id, name],
    report: (sessionId, message) => noteInChat({ db, bus }, sessionId, { kind: "error", message }),
    version: VERSION,
  });
  const terminals = new Terminals({ db, dataDir: config.dataDir, pods, settings, env: (session) => ({ ...pods.remoteEnv({ repoId: session.repoId, userId: session.userId }), ...terminalGatewayEnv(address.podUrl()) }), holder: { build: holderBuild, hub: holders, dirOf: (key) => services.dir(key), socketOf: (key) => services.podHolderSocket(key) } });
  const hosts = new SessionHosts();
  const tasks = new Tasks({ db, bus, linkedTaskOf: (sessionId) => reads.linkedTaskOf(sessionId) });
  const skills = new Skills({ db, bus, mirrors, sessionRepoOf: (sessionId) => reads.findLive(sessionId)?.repoId ?? null });
  const sessions = new Sessions({
    db,
    workspacesDir: config.workspacesDir,
    mirrors,
    pods,
    settings,
    hosts,
    tasks,
    reads,
    filesFor: async (session) => sessionFiles({ podUrl: () => address.podUrl(), services, mcpServers, skills, settings }, session),
    podFacts: (key) => claudeCode.offerFacts(key),
    audit,
    agentOf: (id) => agents.get(id),
  });
  pods.onReady((key, shell) => sessions.podReady(key, shell.pod.id));
  // A pod made again from a new environment: its person's live sessions of the repo get a new shell, told why.
  pods.onRebuilt((key, phase) => {
    for (const session of reads.allActive().filter((s) => s.repoId === key.repoId && s.userId === key.userId)) {
      const host = hosts.get(session.id);
      if (phase === "before") host?.podRebuilding();
      else host?.podRebuilt();
    }
  });
  // A pod moved to another engine: its person's live sessions of the repo stop what they run in it and carry on in the new one.
  const podMoves = new PodMoves({ engines: dockerEngines, runtime: runtime instanceof PlacedRuntime ? runtime : null, pods, records: new MoveRecords(db), audit, bus,
    repoOf: (repoId) => getRepo(db, repoId),
    sessions: {
      of: (key) => reads.allActive().filter((s) => s.repoId === key.repoId && s.userId === key.userId).map((s) => s.id),
      pause: async (sessionId, note) => hosts.get(sessionId)?.pauseForMove(note),
      resume: (sessionId, note) => hosts.get(sessionId)?.resumeAfterMove(note),
    },
    log: (line) => console.error(line),
  });
  bus.subscribe("session.files-changed", null, ({ repoId }) => void sessions.syncFiles(repoId));
  // Worktrees name where pods reach Pier (.mcp.json, Claude Code's settings): after a restart
  // on another port, the live sessions' files follow at once.
  address.onMoved(() => sessions.syncFiles(null));
  const policies = new ToolPolicies(db);
  const attentionFlags = new AttentionFlags({ db, bus });
  const approvals = new Approvals({ db, sessions, flags: attentionFlags, policies,
    runs: { policy: () => settings.plain().runToolPolicy, approvalMinutes: () => settings.plain().runApprovalMinutes },
    audit,
  });
  approvals.forgetAfterRestart();
  const mcp = new McpEndpoint({ db, sessions, tasks, tools: taskTools, version: VERSION,
    refusal: (sessionId, tool) => approvals.refusalOutsideChat(sessions.get(sessionId), tool),
  });
  const budgets = new BudgetGate({ db, bus,
    sessionCostUsd: (sessionId) => sessions.get(sessionId).costUsd,
    runBudgetFor: (sessionId) => runBudgetOfSession(db, sessionId),
  });
  const gateway = new Gateway({ db, bus, sessions, credentials, upstream: { anthropic: config.anthropicBaseUrl, openai: config.openaiBaseUrl, gemini: config.geminiBaseUrl }, podUrl: () => address.podUrl(), budget: budgets, audit });
  // Likewise for the MCP endpoint and the model gateway: a token for that one session, never the credential behind it.
  services.answerTokens({
    mcpToken: (pod, sessionId) => (sessions.isLiveFor(pod, sessionId) ? mcp.podToken(sessionId) : null),
    gatewayToken: (pod, sessionId) => (sessions.isLiveFor(pod, sessionId) ? gateway.podToken(sessionId) : null),
  });
  const github = new GitHub(config.githubApiUrl);
  const prs = new PullRequests({ db, bus, github, web: githubWebSide, credentials, sessions, pods, settings, linkLookupsPerMinute: config.prLookupsPerMinute });
  watchForPullRequests(bus, prs);
  watchTerminalsForPullRequests(terminals, prs);
  bus.subscribe("task.updated", null, ({ task, taskId }) => {
    if (task === null) sessions.forgetTask(taskId);
  });
  const verifications = new Verifications({ db, bus, config, dataDir: config.dataDir, tasks, pods, prs, credentials, settings });
  const webhooks = new Webhooks({ db, box, allowPrivate: config.webhookAllowPrivate, audit });
  const attention = new Attention({ bus, sessions, flags: attentionFlags, settings, webhooks, repoName: (repoId) => getRepo(db, repoId).name });
  // A bell, or output then silence, may mean the session needs its person.
  terminals.onOutput((sessionId, bytes) => attention.terminalOutput(sessionId, bytes));
  const pierEngine = new AnthropicEngine({ db, config, pods, settings, credentials, tasks, skills });
  // Claude Code runs the pod's own claude or Pier's copy, and reaches the API through Pier's gateway where pods can.
  const claudeCodeEngine = new ClaudeCodeEngine({ db, pods, settings,
    launch: async (session) => {
      // Claude Code reads where Pier is from the worktree's settings: never before they are current.
      await address.settled();
      const [command, gate] = await Promise.all([claudeCode.commandFor({ repoId: session.repoId, userId: session.userId }), gateway.envFor(session)]);
      return { command, ...gate };
    },
    refusedCredential: (sessionId) => gateway.takeRefusal(sessionId),
  });
  // A coding agent over ACP, started as pier.agents says and pointed at the gateway for its model service.
  const acpEngine = new AcpEngine({ db, pods, settings, agents,
    // The session's MCP servers, each started by the pod's launcher, which asks Pier for its command and secrets as it starts it.
    mcpServers: (session) =>
      mcpServers.effective(session.repoId).map(({ name }) => ({ name, command: services.mcpLauncher({ repoId: session.repoId, userId: session.userId }), args: [session.id, name], env: [] })),
    gatewayEnv: async (session, service) => {
      await address.settled();
      return gateway.envFor(session, service);
    },
    refusal: (sessionId) => gateway.takeRefusalSaid(sessionId),
  });
  const engines = { pier: pierEngine, "claude-code": claudeCodeEngine, acp: acpEngine };
  const chats = new Chats({ db, bus, sessions,
    // Each session's chat is answered by the engine it was started with.
    engine: { runTurn: (turn) => engines[turn.session.engine].runTurn(turn) },
    toolsFor: async (session) => new ToolRegistry([...builtInTools.tools, ...(await agentMcp.tools(session))]),
    authorize: (session, call, signal, record) => approvals.authorize(session, call, signal, record),
    pendingApprovals: (sessionId) => approvals.pendingIds(sessionId),
    budget: budgets,
  });
  budgets.onReached((reached) => {
    hosts.get(reached.sessionId)?.chat().stopForBudget();
    // An error with its code: the chat shows it, and "needs you" is raised from it (see Attention).
    chats.note(reached.sessionId, { kind: "error", code: "budget_exceeded", message: reached.message });
  });
  hosts.connect({
    bus,
    openTerminal: (session, shell, note) => terminals.open(session, shell, note),
    podState: async (session) => (await runtime.inspectPod({ repoId: session.repoId, userId: session.userId }))?.state ?? "missing",
    openChat: (sessionId) => chats.open(sessionId),
    stopAgentProcesses: async (sessionId) => {
      await agentMcp.stop(sessionId);
      await claudeCodeEngine.stop(sessionId);
      await acpEngine.stop(sessionId);
    },
    release: (sessionId) => {
      gateway.revoke(sessionId);
      budgets.forget(sessionId);
      mcp.revoke(sessionId);
      attention.forget(sessionId);
      prs.forget(sessionId);
    },
  });
  const taskFeedback = new TaskFeedback({ bus, sessions, hosts, tasks,
    needsFeedback: (sessionId) => attention.raise(sessionId, "feedback"),
    feedbackHandled: (sessionId) => attentionFlags.clear("feedback", sessionId),
    said: (sessionId, text) => chats.said(sessionId, text),
  });
  // Before sessions come back after a restart: a run carries on when its session is active again.
  const rounds = new Rounds({ db, github, credentials, settings });
  const runs = new Runs({ db, bus, settings, sessions, hosts, tasks, prs, pods, github, credentials, mirrors, rounds });
  // Approving a task whose attempts still stand, none picked, is refused: the runs are built after the tasks.
  tasks.refuseApprovalsWhen((taskId) => runs.approvalRefusal(taskId));
  // Issue 27: push. Each raise of "needs you" (a session's, or a run's) goes to its person's devices.
  const push = new Push({ db, bus, box, allowPrivate: config.pushAllowPrivate,
    isLooking: (sessionId) => attention.isLooking(sessionId),
    sources: { session: (id) => sessions.get(id), task: (id) => tasks.read(id), repoName: (repoId) => getRepo(db, repoId).name },
  });
  // Before anyone can connect: usage of responses the last server was killed in the middle of is
  // recorded, then the turns it cut off end as interrupted (their turn_end counts that usage).
  recordLeftoverUsage(db, addSessionCost);
  const cutOff = chats.closeCutOffTurns();
  let setUp = hasAnyUser(db);

  const legacy = { db, dataDir: config.dataDir, workspacesDir: config.workspacesDir, runtime, imageFor: (repoId: string) => pods.imageFor(getRepo(db, repoId)) };
  await retireLegacyLayout(legacy);
  await removeImportedLegacyClones(legacy);
  const diskWatch = new DiskWatch({
    workspacesDir: config.workspacesDir,
    reserveMb: config.diskReserveMb,
    livePods: () => sessions.livePods(),
    runningShell: (key) => pods.runningShell(key),
    sayInTerminals: (sessionIds, message) => {
      for (const id of sessionIds) hosts.get(id)?.sayInTerminal(message);
    },
    notify: (sessionIds, message) => {
      // The note first: it throws while the disk is full, so the watch tries again later.
      for (const id of sessionIds) {
        chats.note(id, { kind: "error", message });
        attention.raise(id, "disk");
      }
    },
  });
  const triggers = new Triggers({ db, bus, audit });
  const triggerFiring = new TriggerFiring({ db, triggers, tasks, settings, runs });
  const issueTriggers = new GitHubIssueTriggers({ db, triggers, firing: triggerFiring });
  const schedules = new Schedules({ bus, triggers, firing: triggerFiring });
  const issueReplies = new IssueReplies({ db, bus, triggers, github, credentials });
  // Issue 27: audit. What the audit log hears on the bus: sign-ins and their refusals, budgets reached.
  recordHeardEvents({ bus, audit, sessionOf: (id) => sessions.get(id) });
  const scheduler = new Scheduler();
  schedulePodJobs(scheduler, { pods, sessions, settings, moves: podMoves });
  if (runtime instanceof PlacedRuntime) scheduler.every("watch Docker engines", WATCH_EVERY_MS, () => runtime.engineStates());
  schedulePrJobs(scheduler, { prs });
  scheduleRunJobs(scheduler, { runs, approvals });
  scheduleDiskJobs(scheduler, { diskWatch });
  scheduleTokenJobs(scheduler, { gateway, mcp });
  scheduleEnvironmentJobs(scheduler, { db, pods, environments });
  scheduleAuditJobs(scheduler, { audit, settings });
  // Moves a killed server left are taken up before the pods are reconciled and their sessions come
  // back, in the background: each holds its pod (its sessions' terminals wait for it), no one else.
  void podMoves.settleUnfinished();
  await scheduler.runNow(RECONCILE_PODS);
  await scheduler.runNow(DELETE_EXPIRED_TOKENS);
  // The pods of live sessions ask Pier over their sockets (git's credentials, Claude Code's key and
  // MCP headers, MCP servers): answer again at once, not only once something readies the pod.
  await Promise.all(sessions.allActive().map((session) => services.open({ repoId: session.repoId, userId: session.userId }, mirrors.path(session.repoId))));
  // Before any session's chat can start its agent again: those the last server left running go.
  await acpEngine.stopLeftovers(sessions.allActive().filter((session) => session.engine === "acp"));
  sessions.resumeAfterRestart();
  await runs.resumeAfterRestart();
  // Warm pods are made in the background: their builds may take minutes, and nobody waits on them.
  void scheduler.runNow(WARM_PODS);
  schedules.start();
  await claudeCodeEngine.stopLeftovers(cutOff.map((id) => sessions.get(id)).filter((session) => session.state === "active" && session.engine === "claude-code"));

  const metrics = new Metrics({
    pier_users: { help: "Registered users.", read: () => countUsers(db) },
    pier_repos: { help: "Registered repositories.", read: () => listRepos(db).length },
    ...(relayHub && {
      pier_preview_connections: { help: "Connections open to ports in pods, through their relays.", read: () => relayHub.traffic().connections },
      pier_preview_bytes: { help: "Bytes carried both ways to and from ports in pods since Pier started.", read: () => relayHub.traffic().bytes },
    }),
  });
  const credentialSockets = new CredentialSockets();
  const loginLimiter = new LoginLimiter();
  const signIns = new SignIns({ db, bus, limiter: loginLimiter, sockets: credentialSockets, passwordSignIn: () => settings.plain().passwordSignIn });
  // Issue 27: single sign-on. OpenID Connect providers sign people in with the same sign-ins, under the same limits;
  // password sign-in goes off only while an admin can still sign in through one.
  const sso = new SingleSignOn({ db, box, bus, signIns, limiter: loginLimiter, passwordSignIn: () => settings.plain().passwordSignIn, audit });
  settings.keep((next) => sso.keepAnAdmin(next));
  // Previews (issue 26): opening a session's listening ports on their own origins, and who may.
  const previews = new Previews({ db, bus, secretKey, sessions, signIns, credentialSockets,
    hosts: { port: config.previewPort, domain: config.previewDomain },
    ports: previewPorts,
    chatOf: (sessionId) => hosts.get(sessionId)?.chat() ?? null,
  });
  // Large answers go to the browser by the splicer, a mode of the relay's program run on the server.
  const splicerBuild = relayBuild ?? new RelayBuild({ toolsDir: config.toolsDir, prebuilt: config.relayBinary ?? undefined });
  const splicer = new Splicer({ binary: () => splicerBuild.binary(), log: (line) => console.error(line) });
  const previewProxy = new PreviewProxy({ dialer: previewDialer, holdOpen: (admitted, close) => previews.holdOpen(admitted, close), splicer });
  return {
    config,
    db,
    bus,
    settings,
    credentials,
    prs,
    tasks,
    runs,
    skills,
    verifications,
    mcp,
    mcpServers,
    gateway,
    mirrorHttp: new MirrorHttp({ podOf: (credential) => podCredentials.podOf(credential), mirrorPath: (repoId) => mirrors.path(repoId) }),
    budgets,
    gatewayEnvFor: (session, service) => gateway.envFor(session, service),
    podUrl: () => address.podUrl(),
    listening: (actual) => {
      address.listening(actual);
      pierPorts.add(actual);
    },
    github,
    runtime,
    dockerEngines,
    pods,
    podMoves,
    relays,
    previewPorts,
    previews,
    previewProxy,
    previewListening: (actual) => {
      previews.listening(actual);
      pierPorts.add(actual);
    },
    environments,
    claudeCode,
    claudeCodeCommandFor: (session) => claudeCode.commandFor({ repoId: session.repoId, userId: session.userId }),
    agents,
    sessions,
    terminals,
    chats,
    reviews: new Reviews({ db, sessions, hosts }),
    taskFeedback,
    policies,
    approvals,
    hosts,
    attention,
    webhooks,
    push,
    dismissals: new Dismissals(db),
    triggers,
    triggerFiring,
    issueTriggers,
    repoRules,
    credentialSockets,
    jobs: scheduler,
    metrics,
    repos: new Repos({ db, rules: repoRules, audit, removal: { hasLiveSession: (repoId) => sessions.hasLiveSession(repoId), removePods: (repoId) => pods.removeAll(repoId) },
      // A repo that now asks for warm pods gets them at once, not at the job's next round.
      updated: (repo) => void (repo.warmPods ? scheduler.runNow(WARM_PODS) : undefined) }),
    users: new Users(db, audit),
    signIns,
    sso,
    apiTokens: new ApiTokens({ db, sockets: credentialSockets, audit }),
    costs: new Costs(db),
    audit,
    databaseAnswers: () => pingDatabase(db),
    version: VERSION,
    isSetUp: () => (setUp ||= hasAnyUser(db)),
    async stopSessions() {
      bus.publish("pier.restarting", "pier", {});
      await hosts.stopForRestart(TURN_STOP_GRACE_MS);
    },
    async close() {
      await scheduler.stop();
      await schedules.stop();
      issueReplies.stop();
      attention.close();
      push.close();
      const settled = Promise.all([hosts.settled(), verifications.settled(), pods.settled(), environments.settled()]);
      if (!(await Promise.race([settled.then(() => true), Bun.sleep(WORK_STOP_GRACE_MS).then(() => false)]))) {
        console.error(`[pier] stopping with work still under way after ${WORK_STOP_GRACE_MS / 1000} s (a session provisioning, a report or a pod being made); it is picked up at the next start.`);
      }
      await agentMcp.stopAll();
      await claudeCodeEngine.stopAll();
      await acpEngine.stopAll();
      await hosts.detachAll();
      bridges?.closeAll();
      await services.closeAll();
      db.$client.close();
    },
  };
}

async function createRuntime(config: Config, settings: SettingsStore, engines: DockerEngines, localPathAfter: () => string | null): Promise<Runtime> {
  const docker = dockerClient(config.dockerHost);
  if ((await chooseRuntime(config.runtime, docker)) === "local") return new LocalRuntime(localPathAfter);
  // Running as root, files in people's workspaces belong to the workspace image's user; otherwise
  // to the server's own user, so that pods run as it can write them.
  const owner = process.getuid?.() === 0 ? POD_USER : { uid: process.getuid!(), gid: process.getgid!() };
  const limits = () => {
    const plain = settings.plain();
    return {
      memoryMb: plain.podMemoryMb,
      cpus: plain.podCpus,
      pids: plain.podPidsLimit,
      noNewPrivileges: plain.podNoNewPrivileges,
      network: config.podNetwork,
    };
  };
  return new PlacedRuntime({
    engines,
    local: new DockerRuntime(docker, settings.instanceId(), owner, limits),
    localDocker: docker,
    runtimeFor: (client, seat) => new DockerRuntime(client, settings.instanceId(), owner, limits, seat),
  });
}
