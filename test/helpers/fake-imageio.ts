/**
 * A stand-in for an imageio transfer's range reads (what transferSource and overlaySource read
 * from): serves a disk held in memory, and records every range fetched so a test can assert that
 * only the dirty ranges were asked for.
 */
import assert from 'node:assert/strict';

export function fakeImageio(disk: Buffer) {
  const fetched: Array<[number, number]> = [];
  return {
    fetched,
    async read(start: number, length: number): Promise<Buffer> {
      assert.ok(start >= 0 && start + length <= disk.length, `a range inside the disk: ${start}+${length}`);
      fetched.push([start, length]);
      return Buffer.from(disk.subarray(start, start + length));
    },
  };
}
