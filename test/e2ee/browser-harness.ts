// Runs the E2EE library in a real Chromium page (IndexedDB, WebCrypto): the library bundled as
// an IIFE (global `E2EE`), served from http://localhost (a secure context) by a throwaway
// server. Skipped where Chromium is not installed.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { type Browser, type Page, chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Why the browser checks cannot run here, or null. */
export function browserMissing(): string | null {
  if (fs.existsSync(CHROMIUM)) return null;
  if (/^(1|true|yes)$/i.test(process.env.REQUIRE_SERVICES ?? '')) throw new Error(`REQUIRE_SERVICES is set but Chromium is not at ${CHROMIUM}`);
  return `Chromium is not installed at ${CHROMIUM}`;
}

/** A page at http://localhost:<port>/ with the library loaded as `window.E2EE`. */
export async function libraryPage(): Promise<{ page: Page; close: () => Promise<void> }> {
  const built = await esbuild.build({
    entryPoints: [path.join(here, '../../web/core/e2ee/index.ts')],
    bundle: true,
    format: 'iife',
    globalName: 'E2EE',
    platform: 'browser',
    write: false,
    target: ['chrome100'],
  });
  const js = built.outputFiles[0].contents;
  const server = http.createServer((req, res) => {
    if (req.url === '/e2ee.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(js);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><meta charset="utf-8"><script src="/e2ee.js"></script>');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
  // A context of its own, so that a test can open a second tab in it (same IndexedDB and Web Locks).
  const context = await browser.newContext();
  // tsx compiles the test's page.evaluate callbacks with esbuild's keepNames helper: give pages one.
  await context.addInitScript({ content: 'window.__name = (f) => f;' });
  const page = await context.newPage();
  await page.goto(`http://localhost:${port}/`);
  await page.waitForFunction(() => 'E2EE' in window);
  return {
    page,
    close: async () => {
      await browser.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
