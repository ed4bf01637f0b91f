import { defineOutputTests } from "./output-suite.ts";

defineOutputTests("local", {});
