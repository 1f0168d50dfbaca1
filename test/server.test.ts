// The real entry point as a process: start, serve, shut down on SIGTERM, refuse bad config.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import { describe, it } from 'node:test';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { DIALECT, PASSWORD, createTestEnv } from './helpers.js';
import { account, request, startServer } from './process-helpers.js';

const exitCode = async (child: ChildProcess) => (child.exitCode ?? (await once(child, 'exit'))[0]) as number;

describe('server process', () => {
  it('generates a signing secret in DATA_DIR once, keeps it private, and finishes in-flight requests on SIGTERM', async () => {
    const env = await createTestEnv();
    try {
      const s = await startServer(env.env);
      const secretFile = `${env.dataDir}/jwt-secret`;
      assert.equal(fs.statSync(secretFile).mode & 0o777, 0o600);
      const secret = fs.readFileSync(secretFile, 'utf8');
      const pending = request(s.base, 'POST', '/api/users/', null, { username: 'proc_user', email: 'proc@example.com', password: PASSWORD });
      await s.waitFor((l) => l.msg === 'incoming request' && (l.req as { path?: string })?.path === '/api/users/');
      s.proc.kill('SIGTERM');
      const res = await pending;
      assert.equal(res.status, 201, 'the request in flight was answered');
      assert.equal(await s.exited, 0);
      assert.ok(s.lines.some((l) => l.msg === 'shutting down'));
      const again = await startServer(env.env);
      assert.equal(fs.readFileSync(secretFile, 'utf8'), secret, 'the secret is kept across restarts');
      const login = await request(again.base, 'POST', '/api/auth/token/', null, { email: 'proc@example.com', password: PASSWORD });
      assert.equal(login.status, 200);
      again.proc.kill('SIGTERM');
      assert.equal(await again.exited, 0);
    } finally {
      await env.cleanup();
    }
  });

  it('on SIGTERM finishes an answer that was already streaming, then exits 0 without waiting for its keep-alive', async () => {
    const env = await createTestEnv();
    try {
      const s = await startServer({ ...env.env, RATE_LIMIT_SIGNUP_PER_IP: '0', RATE_LIMIT_LOGIN_PER_IP: '0', SHUTDOWN_GRACE_MS: '10000' });
      const a = await account(s.base, 'streamer', PASSWORD);
      const room = await request(s.base, 'POST', '/api/chat_rooms/', a.token, { room_type: 'group', name: 'files' });
      const msg = await request(s.base, 'POST', '/api/messages/', a.token, { chat_room: room.body.id, content: 'big file' });
      const form = new FormData();
      form.append('message', String(msg.body.id));
      form.append('file_type', 'document');
      form.append('file', new Blob(['a line of a large log file\n'.repeat(200_000)], { type: 'text/plain' }), 'big.log');
      const up = await fetch(`${s.base}/api/attachments/`, { method: 'POST', headers: { authorization: `Bearer ${a.token}` }, body: form });
      assert.equal(up.status, 201);
      const { id } = (await up.json()) as { id: number };
      // A keep-alive download that has its headers (its answer is under way) but is read slowly.
      const agent = new http.Agent({ keepAlive: true });
      const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
        http.get(`${s.base}/api/attachments/${id}/download/`, { agent, headers: { authorization: `Bearer ${a.token}` } }, resolve).on('error', reject),
      );
      assert.equal(res.statusCode, 200);
      res.pause();
      s.proc.kill('SIGTERM');
      await s.waitFor((l) => l.msg === 'shutting down');
      res.resume();
      let bytes = 0;
      for await (const chunk of res) bytes += (chunk as Buffer).length;
      assert.equal(bytes, 'a line of a large log file\n'.length * 200_000, 'the download finished');
      assert.equal(await s.exited, 0, 'exited by itself, not at the grace deadline');
      agent.destroy();
    } finally {
      await env.cleanup();
    }
  });

  it('never writes passwords or tokens to its logs', async () => {
    const env = await createTestEnv();
    try {
      const s = await startServer(env.env);
      const secretPassword = 'very-secret-password-77';
      const created = await request(s.base, 'POST', '/api/users/', null, { username: 'logcheck', email: 'logcheck@example.com', password: secretPassword });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const login = await request(s.base, 'POST', '/api/auth/token/', null, { email: 'logcheck@example.com', password: secretPassword });
      assert.equal(login.status, 200, JSON.stringify(login.body));
      const tokens = login.body as { access: string; refresh: string };
      assert.ok(typeof tokens.access === 'string' && tokens.access.length > 0, 'login returned an access token');
      assert.ok(typeof tokens.refresh === 'string' && tokens.refresh.length > 0, 'login returned a refresh token');
      const listed = await request(s.base, 'GET', '/api/users/?search=x', tokens.access);
      assert.equal(listed.status, 200, 'the authenticated request (whose header must not be logged) was served');
      s.proc.kill('SIGTERM');
      assert.equal(await s.exited, 0);
      const log = JSON.stringify(s.lines);
      assert.ok(s.lines.length > 4);
      assert.ok(!log.includes(secretPassword) && !log.includes(tokens.access) && !log.includes(tokens.refresh));
    } finally {
      await env.cleanup();
    }
  });

  it('stops at start with a clear message for a bad setting', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { env: { PATH: process.env.PATH ?? '', PORT: 'eighty' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    assert.equal(await exitCode(child), 78);
    assert.match(err, /PORT must be a whole number/);
  });
});

describe('migrations', () => {
  it('several instances starting at once on one database all come up', { skip: DIALECT === 'postgres' ? false : 'concurrent start is a PostgreSQL deployment concern' }, async () => {
    const env = await createTestEnv();
    try {
      const apps = await Promise.all([1, 2, 3].map(() => buildApp(loadConfig(env.env))));
      for (const app of apps) assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
      await Promise.all(apps.map((a) => a.close()));
    } finally {
      await env.cleanup();
    }
  });
});
