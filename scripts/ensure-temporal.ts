/** Prints the Temporal CLI and test server the project will use, installing them first if missing. */
import { resolveTemporalCli, temporalCliVersion } from '../lib/temporal/cli-path';
import { resolveTemporalTestServer } from '../lib/temporal/test-server-path';

const path = resolveTemporalCli();
console.log(`${path}: ${temporalCliVersion(path)}`);
console.log(`time-skipping test server: ${resolveTemporalTestServer()}`);
