/** Bundles the workflows once into a file, for the test run (and replay) to share. */
import { writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { bundleWorkflows } from '../workers/workflow-bundle';

const out = process.argv[2] ?? '.artifacts/workflow-bundle.js';
const { code } = await bundleWorkflows();
await mkdir(dirname(out), { recursive: true });
await writeFile(out, code);
console.log(`workflow bundle: ${out} (${(code.length / 1024).toFixed(0)} KiB)`);
