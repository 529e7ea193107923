// Debian's chromium driven by playwright-core. CI installs it with apt-get (.ci/run); a missing
// browser fails the browser tests with a message saying so rather than skipping them.
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const flags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `chromium is not at ${chromiumPath}: install it (apt-get install chromium) or set CHROMIUM_PATH; the browser tests need a real browser`,
    );
  }
  return chromium.launch({ executablePath: chromiumPath, args: flags });
}
