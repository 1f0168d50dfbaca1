// A real WebSocket client against a listening app, with event-driven waits (no sleeps).
import WebSocket from 'ws';
import type { TestApp } from './helpers.js';

export interface Sock {
  ws: WebSocket;
  events: any[];
  /** The first received frame (from now or already received, not yet taken) matching `match`. */
  next(match?: (e: any) => boolean): Promise<any>;
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

export async function listen(t: TestApp): Promise<string> {
  const address = await t.app.listen({ host: '127.0.0.1', port: 0 });
  return address.replace('http', 'ws');
}

/** Opens a socket; rejects with the HTTP status if the upgrade is refused. */
export function connect(base: string, path: string, opts: { token?: string; query?: Record<string, string | number> } = {}): Promise<Sock> {
  const url = new URL(path, base);
  for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, String(v));
  const ws = new WebSocket(url, { headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {} });
  const events: any[] = [];
  const taken = new WeakSet<object>();
  const waiters: Array<{ match: (e: any) => boolean; resolve: (e: any) => void }> = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on('message', (data) => {
    const e = JSON.parse(data.toString());
    events.push(e);
    const i = waiters.findIndex((w) => w.match(e));
    if (i >= 0) {
      const [w] = waiters.splice(i, 1);
      taken.add(e);
      w.resolve(e);
    }
  });
  const sock: Sock = {
    ws,
    events,
    closed,
    next(match = () => true) {
      const found = events.find((e) => !taken.has(e) && match(e));
      if (found) {
        taken.add(found);
        return Promise.resolve(found);
      }
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        closed.then((c) => reject(new Error(`socket closed (${c.code} ${c.reason}) while waiting; received ${JSON.stringify(events)}`)));
      });
    },
    async close() {
      if (ws.readyState === ws.CLOSED) return;
      ws.close();
      await closed;
    },
  };
  // Resolves once the server says the socket is live (after any replay).
  return new Promise((resolve, reject) => {
    sock.next((e) => e.type === 'ready').then(() => resolve(sock), reject);
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
}

/** Resolves with the status code of a refused upgrade. */
export async function refusedStatus(base: string, path: string, opts: Parameters<typeof connect>[2] = {}): Promise<number> {
  try {
    const s = await connect(base, path, opts);
    await s.close();
    return 101;
  } catch (err) {
    return (err as { status?: number }).status ?? -1;
  }
}
