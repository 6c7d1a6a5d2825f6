/** Prints the Temporal CLI the project will use, installing it first if there is none. */
import { resolveTemporalCli, temporalCliVersion } from '../lib/temporal/cli-path';

const path = resolveTemporalCli();
console.log(`${path}: ${temporalCliVersion(path)}`);
