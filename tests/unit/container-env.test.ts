import { expect, test } from "bun:test";
import { parseEnvOutput, withContainerEnv } from "../../src/environments/container-env.ts";

test("remoteEnv's ${containerEnv:X} takes the pod's value, else its default, else nothing; other text stays", () => {
  const pod = parseEnvOutput("PATH=/usr/local/bin:/usr/bin\nHOME=/home/dev\nWEIRD=a=b\n=no-name\nnot a variable\n");
  expect(pod).toEqual({ PATH: "/usr/local/bin:/usr/bin", HOME: "/home/dev", WEIRD: "a=b" });
  expect(
    withContainerEnv(
      {
        PATH: "${containerEnv:PATH}:/opt/bin",
        CACHE: "${containerEnv:XDG_CACHE_HOME:/tmp/cache}/npm",
        MISSING: "[${containerEnv:NOPE}]",
        TWICE: "${containerEnv:HOME}${containerEnv:HOME}",
        LOCAL: "${localEnv:HOME}",
      },
      pod,
    ),
  ).toEqual({
    PATH: "/usr/local/bin:/usr/bin:/opt/bin",
    CACHE: "/tmp/cache/npm",
    MISSING: "[]",
    TWICE: "/home/dev/home/dev",
    LOCAL: "${localEnv:HOME}",
  });
});
