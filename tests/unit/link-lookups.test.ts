/**
 * The bound on GitHub lookups caused by the pull request links a session prints: distinct links
 * once each, at most so many per session per minute, the rest waiting in order for later minutes,
 * and one session's flood never holding up another's links.
 */
import { expect, test } from "bun:test";
import { LinkLookups, MAX_WAITING } from "../../src/prs/link-lookups.ts";

const MINUTE = 60_000;

function recorder(perMinute: number) {
  const looked: Array<[string, number]> = [];
  const lookups = new LinkLookups<"terminal">(perMinute, async (sessionId, number) => {
    looked.push([sessionId, number]);
  });
  return { looked, lookups, of: (sessionId: string) => looked.filter(([id]) => id === sessionId).map(([, n]) => n) };
}

test("12 links at 5 a minute: 5, then 5, then 2 as minutes pass; a link shown twice is one lookup", async () => {
  const { lookups, of } = recorder(5);
  const t0 = 1_000_000;
  for (let n = 1; n <= 12; n++) expect(lookups.offer("a", n, "terminal", t0)).toBe(true);
  lookups.offer("a", 3, "terminal", t0);
  await lookups.drain(t0 + 1000);
  expect(of("a")).toEqual([1, 2, 3, 4, 5]);
  await lookups.drain(t0 + MINUTE - 1);
  expect(of("a")).toHaveLength(5);
  await lookups.drain(t0 + MINUTE);
  expect(of("a")).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  await lookups.drain(t0 + 2 * MINUTE);
  expect(of("a")).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  lookups.offer("a", 12, "terminal", t0 + 3 * MINUTE);
  await lookups.drain(t0 + 3 * MINUTE);
  expect(of("a")).toHaveLength(12);
});

test("one session's flood does not hold up another's link; past the waiting cap, links are refused (and can come again)", async () => {
  const { lookups, of } = recorder(5);
  const t0 = 1_000_000;
  const refused: number[] = [];
  for (let n = 1; n <= 5 + MAX_WAITING + 10; n++) if (!lookups.offer("flood", n, "terminal", t0)) refused.push(n);
  expect(refused).toEqual(Array.from({ length: 10 }, (_, i) => 5 + MAX_WAITING + 1 + i));
  expect(lookups.offer("other", 42, "terminal", t0)).toBe(true);
  await lookups.drain(t0);
  expect(of("other")).toEqual([42]);
  expect(of("flood")).toEqual([1, 2, 3, 4, 5]);
  // A minute on, the first waiting ones go, in the order they were shown, and a refused one is taken now there is room.
  await lookups.drain(t0 + MINUTE);
  expect(of("flood")).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  expect(lookups.offer("flood", refused[0]!, "terminal", t0 + MINUTE)).toBe(true);
});

test("the links of an ended session are still looked up; then it is let go", async () => {
  const { lookups, of } = recorder(1);
  lookups.offer("a", 1, "terminal", 0);
  lookups.offer("a", 2, "terminal", 0);
  lookups.forget("a");
  await lookups.drain(MINUTE);
  expect(of("a")).toEqual([1, 2]);
  // Let go: the same link shown by the session resumed is a new lookup.
  lookups.offer("a", 2, "terminal", 3 * MINUTE);
  await lookups.drain(3 * MINUTE);
  expect(of("a")).toEqual([1, 2, 2]);
});
