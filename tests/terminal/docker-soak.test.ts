import { claudeCodeTestImage } from "../support/claude-code.ts";
import { dockerTestEnv } from "../support/workspace-image.ts";
import { defineSoak } from "./soak.ts";

// Claude Code works in the pod beside the terminal; the pod uses the host's network to reach the fake model API on 127.0.0.1.
defineSoak({
  runtime: "docker",
  env: { ...(await dockerTestEnv()), PIER_WORKSPACE_IMAGE: await claudeCodeTestImage(), PIER_POD_NETWORK: "host" },
  seconds: 45,
  engine: "claude-code",
});
