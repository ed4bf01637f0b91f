import { defineLifecycleTests } from "./lifecycle.ts";

defineLifecycleTests("local", {});
