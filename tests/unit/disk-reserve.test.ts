import { expect, test } from "bun:test";
import { reserveBytes } from "../../src/pods/disk-watch.ts";

const MiB = 1024 * 1024;

test("the disk reserve is PIER_DISK_RESERVE_MB when given, else 5% of the disk and never more than 1 GiB", () => {
  expect(reserveBytes(64, 500 * 1024 * MiB)).toBe(64 * MiB);
  expect(reserveBytes(0, 500 * 1024 * MiB)).toBe(0);
  expect(reserveBytes(null, 10 * 1024 * MiB)).toBe(512 * MiB);
  expect(reserveBytes(null, 500 * 1024 * MiB)).toBe(1024 * MiB);
});
