import { defineTerminalTests } from "./terminal-suite.ts";

defineTerminalTests("local", {});
