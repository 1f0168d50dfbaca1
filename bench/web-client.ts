// The web client's budgets, measured in Debian's Chromium against the compiled server:
// the first page's JavaScript (from the build report), the conversation list of an account in
// 1,000 conversations, and a 10,000-message history scrolled from the newest to the first.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { chromium } from 'playwright-core';
import { PASSWORD, ROOT, account, api, round, startChatServer } from './lib.js';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Runs `fn` over `items` with at most `width` at once. */
async function pool<T>(items: T[], width: number, fn: (item: T, i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  }));
}

export async function webClient(dataDir: string, opts: { conversations: number; messages: number }) {
  const report = JSON.parse(fs.readFileSync(path.join(ROOT, 'dist/web/build-report.json'), 'utf8')) as { first_page_js_gzip: number; budget_js_gzip: number };
  if (!fs.existsSync(CHROMIUM)) return { firstPageJsGzipKb: round(report.first_page_js_gzip / 1024), skipped: `Chromium is not installed at ${CHROMIUM}` };
  const server = await startChatServer(dataDir);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const reader = await account(server.base, 'web');
    const writer = await account(server.base, 'web');
    // 1,000 conversations, each with a message from someone else (so each has an unread count).
    const seedStart = performance.now();
    const rooms: number[] = [];
    await pool(Array.from({ length: opts.conversations }), 16, async (_, i) => {
      const room = await api(server.base, 'POST', '/api/chat_rooms/', writer.token, { room_type: 'group', name: `room-${String(i).padStart(4, '0')}`, is_public: false, members: [reader.id] });
      await api(server.base, 'POST', '/api/messages/', writer.token, { chat_room: room.id, content: `Welcome to room ${i}` });
      rooms.push(room.id);
    });
    // One of them with a long history.
    const long = rooms[0];
    await pool(Array.from({ length: opts.messages }), 32, (_, i) => api(server.base, 'POST', '/api/messages/', writer.token, { chat_room: long, content: `history message ${i}` }));
    const seedSeconds = (performance.now() - seedStart) / 1000;

    const context = await browser.newContext({ baseURL: server.base, viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto('/');
    await page.getByRole('textbox', { name: 'Email' }).fill(reader.email);
    await page.getByRole('textbox', { name: 'Password' }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('navigation', { name: 'Conversations' }).getByRole('link').first().waitFor();

    // A fresh page load with the session: until every conversation is listed, then until a click opens one.
    const loadStart = performance.now();
    await page.reload();
    // Page-side code as strings: this file is checked without the DOM's types.
    // (waitForFunction would evaluate a string in the page, which the client's CSP forbids; evaluate() is not subject to it.)
    await page.evaluate(`new Promise((resolve) => {
      const check = () => (document.querySelectorAll('nav[aria-label="Conversations"] a').length >= ${opts.conversations} ? resolve() : requestAnimationFrame(check));
      check();
    })`);
    const listMs = performance.now() - loadStart;
    // Measured inside the page (locating one link among a thousand by role costs Playwright itself ~0.5 s).
    const openMs = (await page.evaluate(`new Promise((resolve) => {
      const name = 'room-0500';
      const start = performance.now();
      const observer = new MutationObserver(() => {
        if ([...document.querySelectorAll('h2')].some((h) => h.textContent === name) && document.querySelector('[role="log"] article')) {
          observer.disconnect();
          resolve(performance.now() - start);
        }
      });
      observer.observe(document.body, { childList: true, subtree: true, characterData: true });
      [...document.querySelectorAll('nav[aria-label="Conversations"] a')].find((a) => a.getAttribute('aria-label').startsWith(name)).click();
    })`)) as number;

    // The long history: from the newest message up to the first, as a reader scrolling would.
    let pages = 0;
    page.on('request', (r) => {
      if (r.url().includes('/api/messages/?') && r.url().includes(`chat_room=${long}`)) pages++;
    });
    await page.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: /^room-0000/ }).click();
    await page.getByRole('log', { name: 'Messages' }).getByRole('article').first().waitFor();
    const scrollStart = performance.now();
    let most = 0;
    for (;;) {
      const state = (await page.evaluate(`(() => {
        const log = document.querySelector('[role="log"]');
        log.scrollTop = 0;
        log.dispatchEvent(new Event('scroll'));
        return { articles: log.querySelectorAll('article').length, start: log.textContent.includes('This is the beginning of the conversation.') };
      })()`)) as { articles: number; start: boolean };
      most = Math.max(most, state.articles);
      if (state.start) break;
      await page.waitForTimeout(20);
      if (performance.now() - scrollStart > 120_000) break;
    }
    const scrollSeconds = (performance.now() - scrollStart) / 1000;
    const first = await page.getByRole('log', { name: 'Messages' }).getByRole('article').first().textContent();
    return {
      firstPageJsGzipKb: round(report.first_page_js_gzip / 1024),
      budgetJsGzipKb: round(report.budget_js_gzip / 1024),
      conversations: opts.conversations,
      listMs: round(listMs),
      openConversationMs: round(openMs),
      historyMessages: opts.messages + 1,
      historyPagesLoaded: pages,
      historyMostArticlesAtOnce: most,
      historyScrollSeconds: round(scrollSeconds),
      reachedFirstMessage: !!first?.includes('Welcome to room 0'),
      seedSeconds: round(seedSeconds),
    };
  } finally {
    await browser.close();
    await server.stop();
  }
}
