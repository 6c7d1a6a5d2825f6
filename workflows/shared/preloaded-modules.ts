/**
 * Modules every workflow run shares instead of instantiating its own (the worker's preloadModules,
 * see workers/workflow-bundle.ts). zod is the largest library in the bundle: built afresh for each
 * run, it cost workflow-thread CPU on every run, and a copy of it sat in every cached run's memory
 * (docs/benchmarks.md, (a) and (f)). Only the library is shared; each run still builds its own schemas.
 *
 * The SDK deep-freezes what a preloaded module exports and the globals it sets. zod settles some of
 * its global state on first use (the default locale and memoizer, whether it may compile parsers
 * with eval); a throw-away schema used here, before the freeze, settles it, or the first schema of
 * a run would fail on a frozen object ("Cannot add property localeError, object is not extensible"
 * was the first). Every test runs on a bundle with this preload, so every workflow's valid and invalid
 * inputs go through the shared zod there; a new kind of schema (a new zod feature in an input) belongs
 * in the warm-up below too.
 */
import { z } from 'zod';

const warmUp = z.strictObject({
  name: z
    .string({ error: () => 'custom' })
    .trim()
    .min(1)
    .max(9)
    .regex(/^[a-z]+$/i),
  count: z.number().int().min(1).max(9).default(1),
  flags: z.array(z.boolean()).min(1).optional(),
  kind: z.enum(['a', 'b']).optional(),
  choice: z.union([z.literal('x'), z.object({ y: z.string() })]).optional(),
});
warmUp.safeParse({ name: 'abc', flags: [true], kind: 'a', choice: { y: 'z' } });
warmUp.safeParse({ name: 7, count: 0.5, flags: [], kind: 'c', choice: 3, extra: true });
