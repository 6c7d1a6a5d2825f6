/**
 * Headless Chromium for the UI tests: Debian's `chromium` package (installed by
 * scripts/install-chromium.sh, which .ci/run calls), driven by playwright-core. playwright-core
 * never downloads a browser of its own; where /usr/bin/chromium is missing the UI tests skip.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { projectRoot } from '../../lib/temporal/cli-path';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. */
export function chromiumUnavailable(): string | undefined {
  return existsSync(CHROMIUM_PATH) ? undefined : `${CHROMIUM_PATH} not found: install Debian's chromium package (bash scripts/install-chromium.sh) to run the browser tests`;
}

/**
 * A fresh headless Chromium: playwright-core's launch() gives every browser its own temporary
 * user-data dir (removed on close), so no profile, cache or cookie carries over between tests.
 */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

/** Saves a full-page screenshot under .artifacts/ (git-ignored) and returns its path. */
export async function saveScreenshot(page: Page, relativePath: string): Promise<string> {
  const path = join(projectRoot, '.artifacts', relativePath);
  await mkdir(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage: true });
  return path;
}
