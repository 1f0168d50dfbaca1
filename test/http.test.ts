import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.js';
import { createTestApp, signup, type TestApp } from './helpers.js';

describe('HTTP conventions', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ BODY_LIMIT: '2048' });
  });
  after(() => t.close());

  it('answers unknown routes with 404 JSON and wrong methods with 405 and Allow', async () => {
    const missing = await t.app.inject({ method: 'GET', url: '/no/such/route' });
    assert.equal(missing.statusCode, 404);
    assert.match(missing.headers['content-type'] as string, /application\/json/);
    assert.equal(missing.json().detail, 'Not found.');
    const wrong = await t.app.inject({ method: 'DELETE', url: '/api/auth/token/' });
    assert.equal(wrong.statusCode, 405);
    assert.equal(wrong.headers.allow, 'POST');
    const wrongNoSlash = await t.app.inject({ method: 'PUT', url: '/api/users' });
    assert.equal(wrongNoSlash.statusCode, 405);
    assert.match(wrongNoSlash.headers.allow as string, /GET/);
  });

  it('serves every route with and without its trailing slash', async () => {
    const u = await signup(t.app);
    for (const url of ['/api/users/', '/api/users', `/api/users/${u.id}/`, `/api/users/${u.id}`]) {
      assert.equal((await t.app.inject({ method: 'GET', url, headers: u.auth })).statusCode, 200, url);
    }
  });

  it('refuses a body over the limit with 413, malformed JSON with 400, unknown types with 415', async () => {
    const big = await t.app.inject({ method: 'POST', url: '/api/auth/token/', payload: { email: 'a@b.co', password: 'x'.repeat(5000) } });
    assert.equal(big.statusCode, 413);
    assert.ok(big.json().detail);
    const bad = await t.app.inject({ method: 'POST', url: '/api/auth/token/', payload: '{"email": ', headers: { 'content-type': 'application/json' } });
    assert.equal(bad.statusCode, 400);
    assert.ok(bad.json().detail);
    const xml = await t.app.inject({ method: 'POST', url: '/api/auth/token/', payload: '<x/>', headers: { 'content-type': 'application/xml' } });
    assert.equal(xml.statusCode, 415);
    assert.ok(xml.json().detail);
  });

  it('never shows internals in a 500: a generic body with the request id', async () => {
    const other = await createTestApp({}, undefined, (app) => {
      app.get('/boom', { config: { auth: false } }, async () => {
        throw new Error('secret internal detail at /src/db.ts:42');
      });
    });
    try {
      const res = await other.app.inject({ method: 'GET', url: '/boom' });
      assert.equal(res.statusCode, 500);
      const body = res.json();
      assert.deepEqual(Object.keys(body).sort(), ['code', 'detail', 'request_id']);
      assert.equal(body.request_id, res.headers['x-request-id']);
      assert.ok(!res.body.includes('secret') && !res.body.includes('.ts'));
    } finally {
      await other.close();
    }
  });

  it('reports health and readiness (metrics: test/hardening.test.ts)', async () => {
    const health = await t.app.inject({ method: 'GET', url: '/healthz' });
    assert.deepEqual(health.json(), { status: 'ok' });
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200);
    assert.equal(ready.json().checks.database, 'ok');
    if (t.env.redisUrl) assert.equal(ready.json().checks.redis, 'ok');
  });

  it('says not ready when the database is gone', async () => {
    const other = await createTestApp();
    await other.ctx.db.destroy();
    const ready = await other.app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 503);
    assert.equal(ready.json().checks.database, 'unavailable');
    await other.app.close().catch(() => {});
    await other.env.cleanup();
  });

  it('publishes an OpenAPI document and browsable docs', async () => {
    const spec = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    assert.equal(spec.openapi, '3.1.0');
    for (const p of ['/api/users/', '/api/users/{id}/', '/api/auth/token/', '/api/auth/token/refresh/', '/api/auth/logout/', '/userauth/userSignup', '/userauth/userLogin']) {
      assert.ok(spec.paths[p], p);
    }
    assert.deepEqual(spec.paths['/api/users/'].get.security, [{ bearerAuth: [] }]);
    assert.equal(spec.paths['/api/users/'].post.security, undefined, 'signup is public');
    assert.ok(spec.paths['/api/auth/token/'].post.responses['429']);
    // The sockets too (their plugin hides them by default).
    for (const p of ['/ws/general_updates/', '/ws/user_status/']) {
      const op = spec.paths[p]?.get;
      assert.ok(op, p);
      assert.match(op.summary, /^WebSocket: /);
      assert.ok(op.responses['101'] && op.responses['401'] && op.responses['429'], p);
      assert.ok(op.parameters.some((x: { name: string }) => x.name === 'since'), p);
    }
    const page = await t.app.inject({ method: 'GET', url: '/docs' });
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-type'] as string, /text\/html/);
    assert.match(page.body, /swagger/i);
  });

  it('returns a request id on every response', async () => {
    const a = await t.app.inject({ method: 'GET', url: '/healthz' });
    const b = await t.app.inject({ method: 'GET', url: '/healthz' });
    assert.ok(a.headers['x-request-id'] && a.headers['x-request-id'] !== b.headers['x-request-id']);
  });
});

describe('configuration', () => {
  it('rejects bad values with a message naming the variable', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ PORT: 'eighty' }, /PORT/],
      [{ PORT: '70000' }, /PORT/],
      [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL/],
      [{ REDIS_URL: 'not a url' }, /REDIS_URL/],
      [{ JWT_SECRET: 'short' }, /JWT_SECRET/],
      [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
      [{ TRUST_PROXY: 'maybe' }, /TRUST_PROXY/],
      [{ TRUST_PROXY: '10.0.0.0/8,evil host' }, /TRUST_PROXY/],
      [{ UPLOAD_MAX_BYTES: '-1' }, /UPLOAD_MAX_BYTES/],
    ];
    for (const [env, message] of cases) assert.throws(() => loadConfig(env), (err: unknown) => err instanceof ConfigError && message.test((err as Error).message));
  });

  it('has the documented defaults', () => {
    const c = loadConfig({});
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.port, 8000);
    assert.match(c.sqlitePath, /data\/chat\.sqlite$/);
    assert.equal(c.databaseUrl, null);
    assert.equal(c.jwtSecret, null);
    assert.equal(c.rateLimits.loginFailuresPerAccount, 10);
    assert.equal(c.rateLimits.signupPerIpPerMin, 100);
    assert.equal(c.rateLimits.loginPerIpPerMin, 300);
    assert.equal(c.rateLimits.messagesPerUserPerMin, 0);
  });
});
