import { dockerTestEnv } from "../support/workspace-image.ts";
import { defineOutputTests } from "./output-suite.ts";

defineOutputTests("docker", await dockerTestEnv());
