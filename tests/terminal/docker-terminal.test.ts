import { TEST_WORKSPACE_IMAGE, ensureTestWorkspaceImage } from "../support/workspace-image.ts";
import { defineTerminalTests } from "./terminal-suite.ts";

await ensureTestWorkspaceImage();
defineTerminalTests("docker", { PIER_POD_NETWORK: "none", PIER_WORKSPACE_IMAGE: TEST_WORKSPACE_IMAGE });
