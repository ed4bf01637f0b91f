import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/infra/config.ts";
import { PierAddress } from "../../src/pods/pier-address.ts";

describe("where pods reach Pier, once it listens", () => {
  const config = loadConfig({ PIER_DATA_DIR: "/tmp/pier-unused", PIER_PORT: "3000" });

  test("the address follows the port Pier listens on; what names it is run again only when it moves, and can be waited for", async () => {
    const address = new PierAddress(config, "local");
    expect(address.podUrl()).toBe("http://127.0.0.1:3000");
    const seen: string[] = [];
    let finish = () => {};
    address.onMoved(async () => {
      seen.push(address.podUrl() ?? "none");
      await new Promise<void>((resolve) => (finish = resolve));
    });

    address.listening(3000);
    expect(seen).toEqual([]);
    await address.settled();

    address.listening(4123);
    expect(address.podUrl()).toBe("http://127.0.0.1:4123");
    expect(seen).toEqual(["http://127.0.0.1:4123"]);
    let settled = false;
    const waiting = address.settled().then(() => (settled = true));
    await Bun.sleep(20);
    expect(settled).toBe(false);
    finish();
    await waiting;
    expect(settled).toBe(true);
  });
});
