#!/usr/bin/env node
// The CLI is TypeScript; tsx loads it, so there is no build step between a clone and a backup.
import { register } from 'tsx/esm/api';

register();
await import('../client/cli/main.ts');
