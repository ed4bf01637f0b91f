import { type AgentDeps, ChatAgent } from "./agent.ts";

/** The chat agent of each session, made on first use; the conversation itself lives in the database. */
export class Chats {
  private agents = new Map<string, ChatAgent>();

  constructor(private deps: AgentDeps) {}

  agent(sessionId: string): ChatAgent {
    let agent = this.agents.get(sessionId);
    if (!agent) {
      agent = new ChatAgent(this.deps, sessionId);
      this.agents.set(sessionId, agent);
    }
    return agent;
  }

  /** The session is ending: stop whatever its agent is doing. */
  async end(sessionId: string): Promise<void> {
    await this.agents.get(sessionId)?.interrupt();
    this.agents.delete(sessionId);
  }
}
