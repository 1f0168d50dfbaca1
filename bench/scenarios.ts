// The measured scenarios. Each returns plain figures; run.ts prints them.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import SQLite from 'better-sqlite3';
import type WebSocket from 'ws';
import { PASSWORD, account, api, cpuSeconds, load, openSocket, percentile, round, rssKb, startChatServer, type Proc } from './lib.js';

const SHORT_MESSAGE = 'Hey, are we still on for lunch tomorrow at noon?';
/** HTTP connections of the sends load (figures 1 and 6) and of the ceiling. */
export const SEND_CONNECTIONS = 32;

/** Waits until `done()` or `ms` pass (benchmarks may wait; tests may not). */
async function until(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/** 1 and 6: authenticated sends at SEND_CONNECTIONS connections, one member online on a socket. */
/**
 * 1 and 6: one sender, 32 connections. `rooms` = 1: every send to one private room (a hot room:
 * its sends take turns on the room's lock); more: round robin over that many private rooms.
 */
export async function sends(server: Proc, seconds: number, rooms = 1) {
  const sender = await account(server.base, 'snd');
  const roomIds: number[] = [];
  let member = sender;
  for (let i = 0; i < rooms; i++) {
    member = await account(server.base, 'rcv');
    roomIds.push((await api(server.base, 'POST', '/api/chat_rooms/', sender.token, { room_type: 'private', members: [member.id] })).id);
  }
  // One room: the receiving member's socket counts deliveries; several: the sender's, in all of them.
  const ws = await openSocket(server.base, rooms === 1 ? member.token : sender.token);
  let delivered = 0;
  ws.on('message', (d) => {
    if (d.toString().includes('"type":"new_message"')) delivered++;
  });
  const cpuBefore = cpuSeconds(server.pid);
  let next = 0;
  const r = await load({
    url: `${server.base}/api/messages/`,
    connections: SEND_CONNECTIONS,
    duration: seconds,
    requests: [{
      method: 'POST',
      headers: { authorization: `Bearer ${sender.token}`, 'content-type': 'application/json' },
      setupRequest: (req) => ({ ...req, body: JSON.stringify({ chat_room: roomIds[next++ % roomIds.length], content: SHORT_MESSAGE }) }),
    }],
  });
  const created = r.statuses['201'] ?? 0;
  await until(() => delivered >= created, 10_000);
  // The server's CPU time per request: steadier than requests/s when runs are noisy.
  const cpuUsPerRequest = round(((cpuSeconds(server.pid) - cpuBefore) * 1e6) / r.requests);
  ws.close();
  return { ...r, rooms, created, delivered, cpuUsPerRequest };
}

export async function ceiling(server: Proc, seconds: number) {
  const base = server.base;
  const cpuBefore = cpuSeconds(server.pid);
  const r = await load({
    url: `${base}/api/messages/`,
    method: 'POST',
    connections: SEND_CONNECTIONS,
    duration: seconds,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ chat_room: 1, content: SHORT_MESSAGE }),
  });
  return { ...r, cpuUsPerRequest: round(((cpuSeconds(server.pid) - cpuBefore) * 1e6) / r.requests) };
}

/** 2: 20 users × 25 sockets in one room, 50 messages/s; time from send to receipt at every socket. */
export async function fanout(server: Proc, seconds: number) {
  const users: Array<{ id: number; token: string }> = [];
  for (let i = 0; i < 20; i++) users.push(await account(server.base, 'fan'));
  const sender = await account(server.base, 'fsend');
  const room = await api(server.base, 'POST', '/api/chat_rooms/', sender.token, { room_type: 'group', name: 'fan-out', members: users.map((u) => u.id) });
  const sockets: WebSocket[] = [];
  for (const u of users) for (let i = 0; i < 25; i++) sockets.push(await openSocket(server.base, u.token));
  const sentAt: number[] = [];
  const latencies: number[] = [];
  for (const ws of sockets) {
    ws.on('message', (d) => {
      const now = performance.now();
      const m = /"content":"fan (\d+)"/.exec(d.toString());
      if (m) latencies.push(now - sentAt[Number(m[1])]);
    });
  }
  const total = seconds * 50;
  let failed = 0;
  await new Promise<void>((resolve) => {
    let n = 0;
    const timer = setInterval(() => {
      const i = n++;
      sentAt[i] = performance.now();
      api(server.base, 'POST', '/api/messages/', sender.token, { chat_room: room.id, content: `fan ${i}` }).catch(() => failed++);
      if (n === total) {
        clearInterval(timer);
        resolve();
      }
    }, 20);
  });
  const expected = total * sockets.length;
  await until(() => latencies.length >= expected - failed * sockets.length, 15_000);
  for (const ws of sockets) ws.close();
  latencies.sort((a, b) => a - b);
  return { sockets: sockets.length, messages: total, failedSends: failed, expected, received: latencies.length, p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)), max: round(latencies[latencies.length - 1] ?? NaN) };
}

/** 3: a room of 1,000,000 messages; a page of 50 with `before` from the middle. */
export async function history(dataDir: string, count: number, seconds: number) {
  let server = await startChatServer(dataDir);
  const [a, b] = [await account(server.base, 'hist'), await account(server.base, 'hist')];
  const room = await api(server.base, 'POST', '/api/chat_rooms/', a.token, { room_type: 'private', members: [b.id] });
  await server.stop();
  // Seeded straight into the database file (the server is stopped): far faster than a million POSTs.
  const db = new SQLite(path.join(dataDir, 'chat.sqlite'));
  const seedStart = performance.now();
  const insert = db.prepare('insert into messages (chat_room_id, sender_id, content, created_at, updated_at) values (?, ?, ?, ?, ?)');
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const at = new Date(t0 + i * 1000).toISOString();
      insert.run(room.id, i % 2 ? a.id : b.id, `history message number ${i}`, at, at);
    }
  })();
  const { lo, hi } = db.prepare('select min(id) as lo, max(id) as hi from messages where chat_room_id = ?').get(room.id) as { lo: number; hi: number };
  db.close();
  const seedSeconds = (performance.now() - seedStart) / 1000;
  server = await startChatServer(dataDir);
  const middle = Math.floor((lo + hi) / 2);
  const url = `${server.base}/api/messages/?chat_room=${room.id}&before=${middle}&limit=50`;
  const page = await api(server.base, 'GET', url.slice(server.base.length), a.token);
  const r = await load({ url, connections: 1, duration: seconds, headers: { authorization: `Bearer ${a.token}` } });
  await server.stop();
  return { ...r, messages: count, seedSeconds: round(seedSeconds), pageSize: page.results.length, firstId: page.results[0]?.id };
}

/** 4: 10,000 idle authenticated sockets: server memory per socket and connect rate. */
export async function connections(server: Proc, total: number) {
  const users: Array<{ token: string }> = [];
  for (let i = 0; i < 100; i++) users.push(await account(server.base, 'conn'));
  const warm = [];
  for (let i = 0; i < 50; i++) warm.push(await openSocket(server.base, users[i % users.length].token));
  for (const ws of warm) ws.close();
  await new Promise((r) => setTimeout(r, 500));
  const before = rssKb(server.pid);
  const sockets: WebSocket[] = [];
  const start = performance.now();
  const batch = 100;
  for (let i = 0; i < total; i += batch) {
    const opened = await Promise.all(Array.from({ length: Math.min(batch, total - i) }, (_, j) => openSocket(server.base, users[(i + j) % users.length].token)));
    sockets.push(...opened);
  }
  const seconds = (performance.now() - start) / 1000;
  await new Promise((r) => setTimeout(r, 1000));
  const after = rssKb(server.pid);
  const alive = sockets.filter((s) => s.readyState === s.OPEN).length;
  for (const ws of sockets) ws.terminate();
  return { sockets: total, alive, connectPerSecond: round(total / seconds), rssBeforeMb: round(before / 1024), rssAfterMb: round(after / 1024), kbPerSocket: round((after - before) / total, 2) };
}

/** 5: 20 logins a second while other authenticated requests run; their latency. */
export async function loginStorm(server: Proc, seconds: number) {
  const reader = await account(server.base, 'read');
  const target = await account(server.base, 'login');
  const other = { url: `${server.base}/api/users/${reader.id}/`, connections: 8, duration: seconds, headers: { authorization: `Bearer ${reader.token}` }, overallRate: 500 };
  const quiet = await load(other);
  let logins = 0;
  let loginFailures = 0;
  let inFlight = 0;
  const timer = setInterval(() => {
    inFlight++;
    api(server.base, 'POST', '/api/auth/token/', null, { email: target.email, password: PASSWORD })
      .then(() => logins++, () => loginFailures++)
      .finally(() => inFlight--);
  }, 50);
  const stormy = await load(other);
  clearInterval(timer);
  await until(() => inFlight === 0, 10_000);
  return { quietP99: quiet.p99, quietP50: quiet.p50, stormP99: stormy.p99, stormP50: stormy.p50, otherRps: round(stormy.rps), logins, loginFailures, otherStatuses: stormy.statuses };
}
