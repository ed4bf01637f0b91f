import { expect, test } from "bun:test";
import type { ControlMessage } from "../../src/terminal/protocol.ts";
import { type Watcher, Watchers } from "../../src/terminal/watchers.ts";

/** A watcher that writes down what reaches it, in order. */
function watcher(): Watcher & { got: string[] } {
  const got: string[] = [];
  return {
    got,
    sendBytes: (bytes) => got.push(`bytes:${new TextDecoder().decode(bytes)}`),
    sendControl: (message: ControlMessage) => got.push(`${message.type}:${"message" in message ? message.message : ""}`),
    bufferedAmount: () => 0,
    lost: () => got.push("lost"),
  };
}

test("a notice said while a viewer waits for its snapshot reaches it right after the snapshot, not never", () => {
  const watchers = new Watchers();
  const live = watcher();
  const joining = watcher();
  watchers.add(live);
  watchers.goLive(live, new TextEncoder().encode("screen"));
  watchers.add(joining);
  watchers.notice("Pier stopped yes.");
  expect(live.got).toEqual(["bytes:screen", "notice:Pier stopped yes."]);
  expect(joining.got).toEqual([]);
  watchers.goLive(joining, new TextEncoder().encode("screen"));
  expect(joining.got).toEqual(["bytes:screen", "notice:Pier stopped yes."]);
  // Said once: a later snapshot does not repeat it.
  watchers.send(new TextEncoder().encode("more"));
  expect(joining.got).toEqual(["bytes:screen", "notice:Pier stopped yes.", "bytes:more"]);
});

test("a viewer that leaves before its snapshot takes no notices with it", () => {
  const watchers = new Watchers();
  const gone = watcher();
  watchers.add(gone);
  watchers.notice("one");
  watchers.remove(gone);
  expect(watchers.goLive(gone, new TextEncoder().encode("screen"))).toBe(false);
  expect(gone.got).toEqual([]);
});
