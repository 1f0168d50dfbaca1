// The web client's core (the SDK) against a real server: a listening app, clients in token
// mode with the `ws` package as their WebSocket, a network that can be cut, and waits on signals.
import { effect } from '@preact/signals-core';
import { after, before } from 'node:test';
import WebSocket from 'ws';
import { ChatClient, type ChatClientOptions, type SocketFactory } from '../../web/core/index.js';
import { chatApp } from '../chat-helpers.js';
import { PASSWORD, uniq, type TestApp } from '../helpers.js';

export interface CoreServer {
  t: TestApp;
  base: string;
  close(): Promise<void>;
}

export async function coreServer(overrides: Record<string, string> = {}): Promise<CoreServer> {
  const t = await chatApp(overrides);
  const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  return { t, base, close: () => t.close() };
}

/** A network between one client and the server that the test can cut and restore. */
export class Network {
  up = true;
  /** Requests that reached the server but whose answer is then lost (as when a connection drops mid-reply). */
  loseAnswers = 0;
  private readonly sockets = new Set<WebSocket>();
  private readonly holds: Array<{ match: (method: string, path: string) => boolean; gate: Promise<void>; seen: () => void; answer: boolean }> = [];
  private readonly failures: Array<(method: string, path: string) => boolean> = [];

  /**
   * The next request matching `match` waits until `release()` (a slow network for it): before it
   * reaches the server, or (`answer`) after the server answered, before the client sees the answer.
   * `reached` resolves when it is waiting.
   */
  hold(match: (method: string, path: string) => boolean, opts: { answer?: boolean } = {}): { reached: Promise<void>; release: () => void } {
    let release!: () => void;
    let seen!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const reached = new Promise<void>((r) => (seen = r));
    this.holds.push({ match, gate, seen, answer: opts.answer ?? false });
    return { reached, release };
  }

  /** The next request matching `match` fails as if the network dropped. */
  failOnce(match: (method: string, path: string) => boolean): void {
    this.failures.push(match);
  }

  /** Every request this client made, as `METHOD /path`, in order. */
  readonly requests: string[] = [];

  readonly fetch: typeof fetch = async (input, init) => {
    if (!this.up) throw new TypeError('fetch failed (network down)');
    const method = init?.method ?? 'GET';
    const path = new URL(String(input)).pathname;
    this.requests.push(`${method} ${path}`);
    const f = this.failures.findIndex((m) => m(method, path));
    if (f >= 0) {
      this.failures.splice(f, 1);
      throw new TypeError('fetch failed (dropped)');
    }
    const h = this.holds.findIndex((x) => x.match(method, path));
    const held = h >= 0 ? this.holds.splice(h, 1)[0] : null;
    if (held && !held.answer) {
      held.seen();
      await held.gate;
    }
    const res = await fetch(input, init);
    if (held?.answer) {
      held.seen();
      await held.gate;
    }
    if (this.loseAnswers > 0) {
      this.loseAnswers--;
      await res.arrayBuffer();
      throw new TypeError('fetch failed (answer lost)');
    }
    return res;
  };

  /** The URL of every socket this client opened, in order. */
  readonly opened: string[] = [];

  readonly WebSocket: SocketFactory = ((net: Network) =>
    class extends WebSocket {
      constructor(url: string) {
        net.opened.push(url);
        super(net.up ? url : 'ws://127.0.0.1:1/');
        net.sockets.add(this);
        this.on('message', (data) => net.received(String(data)));
        this.on('close', () => net.sockets.delete(this));
        this.on('error', () => undefined);
      }
    })(this) as unknown as SocketFactory;

  private readonly frameWaiters: Array<{ match: (e: any) => boolean; resolve: (e: any) => void }> = [];

  /** The next frame any socket of this client receives that matches (from now on). */
  nextFrame(match: (e: any) => boolean): Promise<any> {
    return new Promise((resolve) => this.frameWaiters.push({ match, resolve }));
  }

  private received(text: string): void {
    const e = JSON.parse(text);
    for (let i = this.frameWaiters.length - 1; i >= 0; i--) if (this.frameWaiters[i].match(e)) this.frameWaiters.splice(i, 1)[0].resolve(e);
  }

  /** Cuts the network: open sockets die without a close handshake, requests fail. */
  cut(): void {
    this.up = false;
    for (const s of this.sockets) s.terminate();
  }

  restore(): void {
    this.up = true;
  }
}

export interface TestClient {
  chat: ChatClient;
  net: Network;
  user: { id: number; username: string; email: string };
}

/** A new account, logged in through the SDK. */
export async function newClient(server: CoreServer, opts: Partial<ChatClientOptions> = {}): Promise<TestClient> {
  const net = new Network();
  const chat = new ChatClient({ baseUrl: server.base, mode: 'token', fetch: net.fetch, WebSocket: net.WebSocket, name: uniq('t'), ...opts });
  const username = uniq('user');
  const email = `${username}@example.com`;
  const me = await chat.signup({ username, email, password: PASSWORD });
  return { chat, net, user: { id: me.id, username, email } };
}

/** Resolves once `read()` satisfies `ok` (checked whenever the signals it reads change). */
export function until<T>(read: () => T, ok: (value: T) => boolean, what = 'condition', ms = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    let dispose: (() => void) | null = null;
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      dispose?.();
      reject(new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(read())?.slice(0, 500)}`));
    }, ms);
    dispose = effect(() => {
      const v = read();
      if (!done && ok(v)) {
        done = true;
        clearTimeout(timer);
        queueMicrotask(() => dispose?.());
        resolve(v);
      }
    });
    if (done) dispose();
  });
}

/**
 * For a describe block: a server started before its tests; `fresh(opts)`, a new signed-up client,
 * and `client(opts)`, one whose socket is online; all closed after the block.
 */
export function onlineClients(): { fresh: (opts?: Partial<ChatClientOptions>) => Promise<TestClient>; client: (opts?: Partial<ChatClientOptions>) => Promise<TestClient> } {
  let server: CoreServer;
  const clients: TestClient[] = [];
  before(async () => {
    server = await coreServer();
  });
  after(async () => {
    for (const c of clients) c.chat.close();
    await server.close();
  });
  const fresh = async (opts: Partial<ChatClientOptions> = {}) => {
    const c = await newClient(server, opts);
    clients.push(c);
    return c;
  };
  return {
    fresh,
    async client(opts = {}) {
      const c = await fresh(opts);
      await until(() => c.chat.connection.value, (state) => state === 'online', 'socket online');
      return c;
    },
  };
}
