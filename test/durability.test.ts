// kill -9 in the middle of a stream of sends: every acknowledged (201) message must be there
// after a restart, exactly once, and retrying any client_id must not store it twice.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openDatabase } from '../src/db/connect.js';
import { createTestEnv, PASSWORD, uniq, type TestEnv } from './helpers.js';
import { NO_LIMITS, pathOf } from './chat-helpers.js';
import { account as newAccount, request, startServer as start, type Server } from './process-helpers.js';

const WORKERS = 8;
const KILL_AFTER = 150;

const startServer = (env: TestEnv) => start({ ...env.env, ...NO_LIMITS });

const account = (base: string) => newAccount(base, uniq('dur'), PASSWORD);

describe('durability', () => {
  let env: TestEnv;
  let server: Server | null = null;
  before(async () => {
    env = await createTestEnv();
  });
  after(async () => {
    if (server && server.proc.exitCode === null) {
      server.proc.kill('SIGTERM');
      await server.exited;
    }
    await env.cleanup();
  });

  it('keeps every acknowledged message exactly once across kill -9 and retries', async (t) => {
    server = await startServer(env);
    const [a, b] = [await account(server.base), await account(server.base)];
    const room = await request(server.base, 'POST', '/api/chat_rooms/', a.token, { room_type: 'private', members: [b.id] });
    assert.equal(room.status, 201);
    const roomId: number = room.body.id;

    const acked = new Map<string, { id: number; content: string }>();
    const unknown = new Map<string, { token: string; content: string }>();
    const senders = [a, b];
    const senderOf = (clientId: string) => {
      const [w, i] = clientId.slice(1).split('-').map(Number);
      return senders[(w + i) % 2];
    };
    let killed = false;
    const first = server;
    const worker = async (w: number) => {
      for (let i = 0; ; i++) {
        const clientId = `w${w}-${i}`;
        const sender = senderOf(clientId);
        const content = `message ${w}/${i} ✓`;
        // Now and then retry an acknowledged send: it must come back as the same message.
        const retry = i % 7 === 3 ? [...acked.entries()].find(([k]) => k.startsWith(`w${w}-`)) : undefined;
        try {
          if (retry) {
            const [rid, prev] = retry;
            const res = await request(first.base, 'POST', '/api/messages/', senderOf(rid).token, { chat_room: roomId, content: prev.content, client_id: rid });
            assert.equal(res.status, 200);
            assert.equal(res.body.id, prev.id);
          }
          const res = await request(first.base, 'POST', '/api/messages/', sender.token, { chat_room: roomId, content, client_id: clientId });
          assert.equal(res.status, 201, JSON.stringify(res.body));
          acked.set(clientId, { id: res.body.id, content });
          if (acked.size >= KILL_AFTER && !killed) {
            killed = true;
            first.proc.kill('SIGKILL');
          }
        } catch (err) {
          if (!killed) throw new Error(`send failed before the kill (server exit ${first.proc.exitCode ?? first.proc.signalCode}); server log tail:\n${first.tail()}`, { cause: err });
          unknown.set(clientId, { token: sender.token, content }); // sent or not: we cannot know
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    assert.equal(await first.exited, null, 'killed by a signal');
    assert.ok(acked.size >= KILL_AFTER);

    server = await startServer(env);
    const second = server;
    const onSecond = async (method: string, url: string, token: string | null, body?: unknown) => {
      try {
        return await request(second.base, method, url, token, body);
      } catch (err) {
        throw new Error(`request to the restarted server failed (exit ${second.proc.exitCode ?? second.proc.signalCode}); log tail:\n${second.tail()}`, { cause: err });
      }
    };
    // Retrying what was in flight stores it at most once; retrying what was acknowledged returns it.
    const inFlightStored = [];
    for (const [clientId, u] of unknown) {
      const res = await onSecond('POST', '/api/messages/', u.token, { chat_room: roomId, content: u.content, client_id: clientId });
      assert.ok(res.status === 201 || res.status === 200, `${res.status} ${JSON.stringify(res.body)}`);
      if (res.status === 200) inFlightStored.push(clientId);
      acked.set(clientId, { id: res.body.id, content: u.content });
    }
    t.diagnostic(`${acked.size - unknown.size} acknowledged before the kill; ${unknown.size} in flight, of which ${inFlightStored.length} had been committed`);
    for (const [clientId, m] of acked) {
      const res = await onSecond('POST', '/api/messages/', senderOf(clientId).token, { chat_room: roomId, content: 'a retry', client_id: clientId });
      assert.equal(res.status, 200, clientId);
      assert.equal(res.body.id, m.id);
      assert.equal(res.body.content, m.content);
    }

    const history: any[] = [];
    let url: string | null = `/api/messages/?chat_room=${roomId}&after=0&limit=100`;
    while (url) {
      const page = await onSecond('GET', url, a.token);
      assert.equal(page.status, 200);
      history.unshift(...page.body.results);
      url = page.body.previous ? pathOf(page.body.previous) : null;
    }
    const byClientId = new Map<string, any[]>();
    for (const m of history) byClientId.set(m.client_id, [...(byClientId.get(m.client_id) ?? []), m]);
    for (const [clientId, m] of acked) {
      const stored = byClientId.get(clientId) ?? [];
      assert.equal(stored.length, 1, `${clientId} stored ${stored.length} times`);
      assert.equal(stored[0].id, m.id);
      assert.equal(stored[0].content, m.content);
    }
    assert.equal(history.length, acked.size, 'nothing else was stored');

    // The event log has one new_message per message, in the same order.
    const database = openDatabase({ databaseUrl: env.databaseUrl, sqlitePath: path.join(env.dataDir, 'chat.sqlite') });
    try {
      const events = await database.db.selectFrom('events').select(['id', 'type', 'message_id']).where('chat_room_id', '=', roomId).orderBy('id').execute();
      assert.deepEqual(events.map((e) => e.type), ['room_created', ...history.map(() => 'new_message')]);
      assert.deepEqual(events.slice(1).map((e) => e.message_id), history.map((m) => m.id).sort((x, y) => x - y));
    } finally {
      await database.close();
    }

    second.proc.kill('SIGTERM');
    assert.equal(await second.exited, 0, 'a graceful stop exits 0');
  });
});
