// Browser tests: Debian's Chromium driven by playwright-core (never a downloaded browser)
// against a real server on a real database, serving the built client from dist/web.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';
import { PASSWORD, uniq } from '../helpers.js';
import { coreServer, type CoreServer } from '../web-core/core-helpers.js';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUILT = path.join(ROOT, 'dist/web/index.html');

/** Why the browser tests cannot run here (null: they can). REQUIRE_SERVICES turns a reason into a failure. */
export function browserSkipReason(): string | null {
  const reasons: string[] = [];
  if (!fs.existsSync(CHROMIUM)) reasons.push(`Chromium is not installed at ${CHROMIUM} (apt-get install -y --no-install-recommends chromium)`);
  if (!fs.existsSync(BUILT)) reasons.push('the web client is not built (npm run build:web)');
  if (!reasons.length) return null;
  const reason = reasons.join('; ');
  if (/^(1|true|yes)$/i.test(process.env.REQUIRE_SERVICES ?? '')) throw new Error(`REQUIRE_SERVICES is set but ${reason}`);
  return reason;
}

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** A real server on a real database, listening (the same as the SDK tests use). */
export const site = coreServer;
export type Site = CoreServer;

/**
 * A page that fails the test on an uncaught exception or a console error. Expected failed
 * requests (a refused log-in is a 400) show in Chromium's console as "Failed to load
 * resource"; pass their statuses in `expectStatuses`.
 */
export interface Watched {
  page: Page;
  errors: string[];
  assertClean(): void;
}

export function watch(page: Page, expectStatuses: number[] = []): Watched {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`));
  page.on('console', (msg: ConsoleMessage) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    const status = /status of (\d{3})/.exec(text)?.[1];
    if (status && expectStatuses.includes(Number(status))) return;
    errors.push(`console: ${text}`);
  });
  return { page, errors, assertClean: () => assert.deepEqual(errors, [], 'the page logged errors') };
}

export interface Person {
  context: BrowserContext;
  page: Page;
  watched: Watched;
  username: string;
  email: string;
}

/** A new browser profile that signs up through the page and lands on the chat screen. */
export async function signUp(browser: Browser, base: string, opts: { origin?: string; expectStatuses?: number[]; username?: string; onPage?: (page: Page) => void } = {}): Promise<Person> {
  const context = await browser.newContext({ baseURL: opts.origin ?? base });
  const page = await context.newPage();
  const watched = watch(page, opts.expectStatuses);
  opts.onPage?.(page);
  const username = opts.username ?? uniq('u');
  const email = `${username}@example.com`;
  await page.goto('/');
  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.getByRole('textbox', { name: 'Username' }).fill(username);
  await page.getByRole('textbox', { name: 'Email' }).fill(email);
  await page.getByRole('textbox', { name: 'Password' }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('navigation', { name: 'Conversations' }).waitFor();
  return { context, page, watched, username, email };
}

/** An existing account logged in from a new browser profile (a new E2EE device), once its device is registered. */
export async function logInElsewhere(browser: Browser, base: string, who: Person): Promise<Person> {
  const context = await browser.newContext({ baseURL: base });
  const page = await context.newPage();
  const watched = watch(page);
  const registered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/e2ee_keys/devices/' && r.request().method() === 'POST' && r.status() === 201);
  await page.goto('/');
  await page.getByRole('textbox', { name: 'Email' }).fill(who.email);
  await page.getByRole('textbox', { name: 'Password' }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('navigation', { name: 'Conversations' }).waitFor();
  await registered;
  return { ...who, context, page, watched };
}

/** Creates a group through the New group dialog, adding people by username; ends in the group. */
export async function createGroup(page: Page, name: string, people: string[] = [], opts: { isPublic?: boolean; encrypted?: boolean } = {}): Promise<void> {
  await page.getByRole('button', { name: 'New group' }).click();
  const dialog = page.getByRole('dialog', { name: 'New group' });
  await dialog.getByRole('textbox', { name: 'Name' }).fill(name);
  if (opts.isPublic === false) await dialog.getByRole('checkbox', { name: 'Public' }).uncheck();
  if (opts.encrypted) await dialog.getByRole('checkbox', { name: 'End-to-end encrypted' }).check();
  for (const person of people) {
    await dialog.getByRole('combobox', { name: 'Add people' }).fill(person);
    await dialog.getByRole('option', { name: person }).click();
  }
  await dialog.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('heading', { name, exact: true }).waitFor();
}

/** The link to a conversation in the list (its name starts with the display name). */
export function conversationLink(page: Page, name: string) {
  return page.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: new RegExp(`^${escape(name)}(, \\d+ unread)?$`) });
}

export async function send(page: Page, text: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('textbox', { name: 'Message' }).press('Enter');
}

export function messages(page: Page) {
  return page.getByRole('log', { name: 'Messages' }).getByRole('article');
}

export function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A TCP relay in front of the server whose connections the test can cut, as a dropped network. */
export class Relay {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private up = true;
  origin = '';

  constructor(private readonly target: string) {}

  async start(): Promise<string> {
    const t = new URL(this.target);
    this.server = net.createServer((client) => {
      if (!this.up) return client.destroy();
      const upstream = net.connect(Number(t.port), t.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server!.address() as net.AddressInfo).port}`;
    return this.origin;
  }

  /** Drops every connection at once and refuses new ones. */
  cut(): void {
    this.up = false;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.up = true;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
