/**
 * Function names for the Temporal CLI's frames in `perf script` output. The released binary is
 * stripped of its ELF symbol table, so perf prints `[unknown]`, but Go keeps its own table
 * (.gopclntab), which `go tool addr2line` reads. perf prints such frames as offsets into the file;
 * addr2line wants the virtual addresses the ELF program headers map them to.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface LoadSegment {
  fileOffset: bigint;
  virtualAddress: bigint;
  fileSize: bigint;
}

const PT_LOAD = 1;

/** The PT_LOAD program headers of a 64-bit little-endian ELF file (what Linux amd64/arm64 builds are). */
export function loadSegmentsOf(elf: Buffer): LoadSegment[] {
  if (elf.readUInt32BE(0) !== 0x7f454c46) throw new Error('not an ELF file');
  if (elf[4] !== 2 || elf[5] !== 1) throw new Error('only 64-bit little-endian ELF files are read');
  const phoff = elf.readBigUInt64LE(0x20);
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  const segments: LoadSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = Number(phoff) + i * phentsize;
    if (elf.readUInt32LE(at) !== PT_LOAD) continue;
    segments.push({ fileOffset: elf.readBigUInt64LE(at + 8), virtualAddress: elf.readBigUInt64LE(at + 16), fileSize: elf.readBigUInt64LE(at + 32) });
  }
  return segments;
}

/** The virtual address of a file offset, or undefined when no loaded segment holds it. */
export function virtualAddressOf(segments: LoadSegment[], fileOffset: bigint): bigint | undefined {
  const s = segments.find((seg) => fileOffset >= seg.fileOffset && fileOffset < seg.fileOffset + seg.fileSize);
  return s && fileOffset - s.fileOffset + s.virtualAddress;
}

/**
 * Go function names for file offsets (hex, as perf prints them) of `binary`, with one run of
 * `go tool addr2line`. Offsets it cannot place are left out of the map.
 */
export function goFunctionNames(binary: string, hexOffsets: Iterable<string>, go = process.env.GO ?? 'go'): Map<string, string> {
  const segments = loadSegmentsOf(readFileSync(binary));
  const asked: Array<[string, bigint]> = [];
  for (const hex of new Set(hexOffsets)) {
    const address = virtualAddressOf(segments, BigInt(`0x${hex}`));
    if (address !== undefined) asked.push([hex, address]);
  }
  const names = new Map<string, string>();
  if (!asked.length) return names;
  const run = spawnSync(go, ['tool', 'addr2line', binary], {
    input: asked.map(([, a]) => `0x${a.toString(16)}\n`).join(''),
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (run.error || run.status !== 0) throw new Error(`go tool addr2line failed (is Go installed? GO= names it): ${run.error?.message ?? run.stderr}`);
  // Two lines per address: the function, then file:line.
  const lines = run.stdout.split('\n');
  asked.forEach(([hex], i) => {
    const name = lines[2 * i];
    if (name && name !== '?') names.set(hex, name);
  });
  return names;
}
