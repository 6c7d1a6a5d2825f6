/** bench/lib/go-symbols.ts: naming the Temporal CLI's frames, which perf prints as file offsets of a stripped binary. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'vitest';
import { goFunctionNames, loadSegmentsOf, virtualAddressOf } from '../../bench/lib/go-symbols';
import { resolveTemporalCli } from '../../lib/temporal/cli-path';

test('a file offset maps to the virtual address of the loaded segment that holds it, and none outside them', () => {
  const segments = [
    { fileOffset: 0n, virtualAddress: 0x400000n, fileSize: 0x1000n },
    { fileOffset: 0x2000n, virtualAddress: 0x9000000n, fileSize: 0x100n },
  ];
  assert.equal(virtualAddressOf(segments, 0x10n), 0x400010n);
  assert.equal(virtualAddressOf(segments, 0x2010n), 0x9000010n);
  assert.equal(virtualAddressOf(segments, 0x1800n), undefined);
});

test("the CLI's entry point, given as perf gives it (a file offset), is named from the binary's Go table", () => {
  const cli = resolveTemporalCli();
  const elf = readFileSync(cli);
  const entry = elf.readBigUInt64LE(0x18);
  const segment = loadSegmentsOf(elf).find((s) => entry >= s.virtualAddress && entry < s.virtualAddress + s.fileSize);
  assert.ok(segment, 'a loaded segment holds the entry point');
  const offset = (entry - segment.virtualAddress + segment.fileOffset).toString(16);
  const names = goFunctionNames(cli, [offset, 'ffffffffffff']);
  assert.match(names.get(offset) ?? '', /^_rt0_amd64_linux|^_rt0_arm64_linux/);
  assert.equal(names.has('ffffffffffff'), false, 'an offset outside the file is left out');
});
