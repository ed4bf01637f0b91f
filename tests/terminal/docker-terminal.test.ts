import { dockerTestEnv } from "../support/workspace-image.ts";
import { defineTerminalTests } from "./terminal-suite.ts";

defineTerminalTests("docker", await dockerTestEnv());
