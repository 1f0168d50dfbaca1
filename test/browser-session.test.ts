// The web client's session: the refresh token in an HttpOnly cookie, rotation shared by tabs,
// CSRF header, logout; and the bearer token routes left exactly as they were.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { AuthService, REFRESH_REUSE_GRACE_MS } from '../src/modules/auth/auth.service.js';
import { PASSWORD, createTestApp, createTestEnv, signup, type TestApp, type TestUser } from './helpers.js';
import { startServer } from './process-helpers.js';
import { connect, listen } from './ws-helpers.js';

const XHR = { 'x-requested-with': 'XMLHttpRequest' };
const COOKIE_PATH = '/api/auth/session/';
const REFRESH_TTL = 3600;

interface SetCookie {
  name: string;
  value: string;
  attributes: string[];
}

function setCookieOf(res: LightMyRequestResponse): SetCookie | null {
  const header = res.headers['set-cookie'];
  if (header === undefined) return null;
  assert.equal(typeof header, 'string', 'one Set-Cookie');
  const [pair, ...attributes] = (header as string).split(';').map((s) => s.trim());
  const eq = pair.indexOf('=');
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
}

function assertCookie(res: LightMyRequestResponse, opts: { cleared?: boolean; secure?: boolean } = {}): string {
  const c = setCookieOf(res);
  assert.ok(c, `a Set-Cookie on ${res.statusCode} ${res.body}`);
  assert.equal(c.name, 'chat_refresh');
  const expected = ['HttpOnly', 'SameSite=Strict', `Path=${COOKIE_PATH}`, `Max-Age=${opts.cleared ? 0 : REFRESH_TTL}`];
  if (opts.secure) expected.push('Secure');
  assert.deepEqual(c.attributes, expected);
  if (opts.cleared) assert.equal(c.value, '');
  else assert.ok(c.value.length > 20);
  return c.value;
}

const sessionLogin = (t: TestApp, email: string, password = PASSWORD, headers: Record<string, string> = XHR) =>
  t.app.inject({ method: 'POST', url: '/api/auth/session/', headers, payload: { email, password } });
const sessionRefresh = (t: TestApp, cookie: string | null, headers: Record<string, string> = XHR) =>
  t.app.inject({ method: 'POST', url: '/api/auth/session/refresh/', headers: { ...headers, ...(cookie !== null ? { cookie: `chat_refresh=${cookie}` } : {}) } });
const sessionLogout = (t: TestApp, cookie: string | null, headers: Record<string, string> = XHR) =>
  t.app.inject({ method: 'POST', url: '/api/auth/session/logout/', headers: { ...headers, ...(cookie !== null ? { cookie: `chat_refresh=${cookie}` } : {}) } });
const me = (t: TestApp, access: string) => t.app.inject({ method: 'GET', url: '/api/users/', headers: { authorization: `Bearer ${access}` } });

/** A browser session: its access token and the cookie's value. */
async function browserLogin(t: TestApp, u: TestUser): Promise<{ access: string; cookie: string }> {
  const res = await sessionLogin(t, u.email);
  assert.equal(res.statusCode, 200, res.body);
  return { access: res.json().access, cookie: assertCookie(res) };
}

describe('browser session (refresh token in a cookie)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ REFRESH_TOKEN_TTL: String(REFRESH_TTL), ACCESS_TOKEN_TTL: '600', RATE_LIMIT_LOGIN_FAILURES: '3', RATE_LIMIT_REFRESH_PER_ACCOUNT: '0' });
  });
  after(() => t.close());

  it('logs in: access token, its lifetime and your user in JSON; the refresh token only in the HttpOnly cookie', async () => {
    const u = await signup(t.app);
    const res = await sessionLogin(t, u.email.toUpperCase());
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.deepEqual(Object.keys(body).sort(), ['access', 'expires_in', 'user']);
    assert.equal(body.expires_in, 600);
    const profile = await t.app.inject({ method: 'GET', url: `/api/users/${u.id}/`, headers: u.auth });
    assert.deepEqual(body.user, profile.json(), 'the user as GET /api/users/{id}/ shows it');
    assert.equal(res.headers['cache-control'], 'no-store');
    const cookie = assertCookie(res, { secure: false });
    assert.ok(!res.body.includes(cookie), 'the refresh token is not in the body');
    assert.equal((await me(t, body.access)).statusCode, 200);
  });

  it('marks the cookie Secure behind HTTPS: a trusted proxy saying https, or an https PUBLIC_URL', async () => {
    const u = await signup(t.app);
    const proxied = await createTestApp({ REFRESH_TOKEN_TTL: String(REFRESH_TTL), TRUST_PROXY: 'loopback' }, t.env);
    const pub = await createTestApp({ REFRESH_TOKEN_TTL: String(REFRESH_TTL), PUBLIC_URL: 'https://chat.example.com' }, t.env);
    try {
      const viaProxy = await proxied.app.inject({ method: 'POST', url: '/api/auth/session/', remoteAddress: '127.0.0.1', headers: { ...XHR, 'x-forwarded-proto': 'https' }, payload: { email: u.email, password: PASSWORD } });
      assertCookie(viaProxy, { secure: true });
      const plain = await proxied.app.inject({ method: 'POST', url: '/api/auth/session/', remoteAddress: '127.0.0.1', headers: XHR, payload: { email: u.email, password: PASSWORD } });
      assertCookie(plain, { secure: false });
      const cookie = assertCookie(await sessionLogin(pub, u.email), { secure: true });
      assertCookie(await sessionRefresh(pub, cookie), { secure: true });
      assertCookie(await sessionLogout(pub, cookie), { secure: true, cleared: true });
    } finally {
      await proxied.close();
      await pub.close();
    }
  });

  it('refuses wrong credentials as POST /api/auth/token/ does, and counts attempts per account across both routes', async () => {
    const u = await signup(t.app);
    const viaSession = await sessionLogin(t, u.email, 'wrong-password-1');
    const viaToken = await t.app.inject({ method: 'POST', url: '/api/auth/token/', payload: { email: u.email, password: 'wrong-password-1' } });
    assert.equal(viaSession.statusCode, 400);
    assert.deepEqual(viaSession.json(), viaToken.json());
    assert.equal(setCookieOf(viaSession), null);
    assert.equal((await sessionLogin(t, 'nobody@example.com', 'wrong-password-1')).body, viaToken.body, 'unknown account: the same answer');
    // RATE_LIMIT_LOGIN_FAILURES=3: two attempts above, a third through the token route, then both routes refuse.
    assert.equal((await t.app.inject({ method: 'POST', url: '/api/auth/token/', payload: { email: u.email, password: 'wrong-password-1' } })).statusCode, 400);
    const limited = await sessionLogin(t, u.email);
    assert.equal(limited.statusCode, 429);
    assert.ok(limited.headers['retry-after']);
  });

  it('refresh rotates the cookie; the previous access token keeps working until it expires', async () => {
    const u = await signup(t.app);
    const first = await browserLogin(t, u);
    const res = await sessionRefresh(t, first.cookie);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(Object.keys(res.json()).sort(), ['access', 'expires_in', 'user']);
    assert.equal(res.json().user.id, u.id);
    const rotated = assertCookie(res);
    assert.notEqual(rotated, first.cookie);
    assert.equal((await me(t, first.access)).statusCode, 200, 'the old access token is still valid');
    assert.equal((await me(t, res.json().access)).statusCode, 200);
    const again = await sessionRefresh(t, rotated);
    assert.equal(again.statusCode, 200);
    assert.notEqual(assertCookie(again), rotated);
    const withBody = await t.app.inject({ method: 'POST', url: '/api/auth/session/refresh/', headers: { ...XHR, cookie: `chat_refresh=${setCookieOf(again)!.value}` }, payload: {} });
    assert.equal(withBody.statusCode, 200, 'an empty JSON body is accepted');
  });

  it('answers a missing, forged or revoked cookie with 401 and clears it', async () => {
    const u = await signup(t.app);
    const s = await browserLogin(t, u);
    for (const cookie of [null, 'nonsense', `${s.cookie}x`, s.access]) {
      const res = await sessionRefresh(t, cookie);
      assert.equal(res.statusCode, 401, String(cookie));
      assert.ok(res.json().detail);
      assertCookie(res, { cleared: true });
    }
    assert.equal((await sessionRefresh(t, s.cookie)).statusCode, 200, 'garbage revoked nothing');
    const other = await browserLogin(t, u);
    await t.app.inject({ method: 'POST', url: '/api/auth/logout/', headers: { authorization: `Bearer ${other.access}` } });
    const revoked = await sessionRefresh(t, other.cookie);
    assert.equal(revoked.statusCode, 401);
    assertCookie(revoked, { cleared: true });
  });

  it('lets two tabs refresh with the same cookie at the same moment: both get 200 and the session survives', async () => {
    const u = await signup(t.app);
    const s = await browserLogin(t, u);
    const [a, b] = await Promise.all([sessionRefresh(t, s.cookie), sessionRefresh(t, s.cookie)]);
    assert.equal(a.statusCode, 200, a.body);
    assert.equal(b.statusCode, 200, b.body);
    const cookies = [setCookieOf(a), setCookieOf(b)].filter((c) => c !== null);
    assert.equal(cookies.length, 1, 'one rotation sets the new cookie; the other answer sets none');
    assert.equal((await me(t, a.json().access)).statusCode, 200);
    assert.equal((await me(t, b.json().access)).statusCode, 200);
    const third = await sessionRefresh(t, cookies[0]!.value);
    assert.equal(third.statusCode, 200, 'the newest cookie still works');
    assertCookie(third);
  });

  it('revokes the session when a cookie two generations old comes back', async () => {
    const u = await signup(t.app);
    const s = await browserLogin(t, u);
    const r1 = await sessionRefresh(t, s.cookie);
    const c1 = assertCookie(r1);
    const r2 = await sessionRefresh(t, c1);
    const c2 = assertCookie(r2);
    const replay = await sessionRefresh(t, s.cookie);
    assert.equal(replay.statusCode, 401);
    assertCookie(replay, { cleared: true });
    assert.equal((await sessionRefresh(t, c2)).statusCode, 401, 'the whole session is over');
    assert.equal((await me(t, r2.json().access)).statusCode, 401);
  });

  it('revokes the session when the previous cookie comes back after the window (the rotation moved 31 s into the past)', async () => {
    const u = await signup(t.app);
    const s = await browserLogin(t, u);
    const r1 = await sessionRefresh(t, s.cookie);
    const c1 = assertCookie(r1);
    const sessionId = (await t.ctx.tokens.verifyRefresh(c1))!.sessionId;
    const shift = async (ms: number) =>
      t.ctx.db.updateTable('sessions').set({ last_used_at: new Date(Date.now() - ms).toISOString() }).where('id', '=', sessionId).execute();
    await shift(REFRESH_REUSE_GRACE_MS - 1000);
    const inside = await sessionRefresh(t, s.cookie);
    assert.equal(inside.statusCode, 200, 'still within the window');
    assert.equal(setCookieOf(inside), null);
    await shift(REFRESH_REUSE_GRACE_MS + 1000);
    const late = await sessionRefresh(t, s.cookie);
    assert.equal(late.statusCode, 401);
    assertCookie(late, { cleared: true });
    assert.equal((await sessionRefresh(t, c1)).statusCode, 401, 'revoked');
    assert.equal((await me(t, r1.json().access)).statusCode, 401);
  });

  it('holds the window to exactly REFRESH_REUSE_GRACE_MS after the rotation (service clock)', async () => {
    assert.equal(REFRESH_REUSE_GRACE_MS, 30_000);
    for (const [offset, kept] of [[REFRESH_REUSE_GRACE_MS, true], [REFRESH_REUSE_GRACE_MS + 1, false]] as const) {
      const u = await signup(t.app);
      const s = await browserLogin(t, u);
      const c1 = assertCookie(await sessionRefresh(t, s.cookie));
      const sessionId = (await t.ctx.tokens.verifyRefresh(c1))!.sessionId;
      const row = await t.ctx.db.selectFrom('sessions').select('last_used_at').where('id', '=', sessionId).executeTakeFirstOrThrow();
      const service = new AuthService(t.ctx, { clock: () => Date.parse(row.last_used_at) + offset });
      if (kept) {
        const r = await service.refreshBrowser(s.cookie);
        assert.equal(r.refresh, null);
        assert.equal(r.sessionId, sessionId);
        assert.equal((await me(t, r.access)).statusCode, 200);
      } else {
        await assert.rejects(service.refreshBrowser(s.cookie), (err: { statusCode?: number }) => err.statusCode === 401);
        assert.equal((await sessionRefresh(t, c1)).statusCode, 401, `${offset} ms: revoked`);
      }
    }
  });

  it('refuses all three routes without X-Requested-With (403 csrf_header_missing), before anything else', async () => {
    const u = await signup(t.app);
    const s = await browserLogin(t, u);
    const refused: Array<Record<string, string>> = [{}, { 'x-requested-with': '' }, { 'x-requested-with': '  ' }];
    for (const headers of refused) {
      for (const res of [
        await sessionLogin(t, u.email, PASSWORD, headers),
        await sessionRefresh(t, s.cookie, headers),
        await sessionLogout(t, s.cookie, headers),
        await t.app.inject({ method: 'POST', url: '/api/auth/session/', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload: `email=${encodeURIComponent(u.email)}&password=${PASSWORD}` }),
      ]) {
        assert.equal(res.statusCode, 403, JSON.stringify(headers));
        assert.equal(res.json().code, 'csrf_header_missing');
        assert.ok(res.json().detail);
        assert.equal(setCookieOf(res), null);
      }
    }
    assert.equal((await sessionRefresh(t, s.cookie)).statusCode, 200, 'the refused requests changed nothing');
  });

  it('logout revokes the session, closes its sockets with 4401 and clears the cookie; it is idempotent', async () => {
    const u = await signup(t.app);
    const s = await browserLogin(t, u);
    const other = await browserLogin(t, u);
    const base = await listen(t);
    const sock = await connect(base, '/ws/general_updates/', { token: s.access });
    const res = await sessionLogout(t, s.cookie);
    assert.equal(res.statusCode, 204);
    assert.equal(res.body, '');
    assertCookie(res, { cleared: true });
    assert.equal((await sock.closed).code, 4401);
    assert.equal((await me(t, s.access)).statusCode, 401);
    assert.equal((await sessionRefresh(t, s.cookie)).statusCode, 401);
    assert.equal((await me(t, other.access)).statusCode, 200, "the user's other sessions stay");
    for (const cookie of [s.cookie, null, 'garbage']) {
      const again = await sessionLogout(t, cookie);
      assert.equal(again.statusCode, 204, String(cookie));
      assertCookie(again, { cleared: true });
    }
  });

  it('documents the routes in OpenAPI as public', async () => {
    const spec = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    for (const path of ['/api/auth/session/', '/api/auth/session/refresh/', '/api/auth/session/logout/']) {
      const op = spec.paths[path].post;
      assert.equal(op.security, undefined, path);
      assert.match(op.description, /X-Requested-With/);
      assert.ok(op.responses['403']);
    }
  });
});

describe('bearer token routes beside the cookie session', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ REFRESH_TOKEN_TTL: String(REFRESH_TTL) });
  });
  after(() => t.close());

  it('are unchanged: a JSON pair, no cookie, and a rotated token re-used at once still revokes the session', async () => {
    const u = await signup(t.app);
    const login = await t.app.inject({ method: 'POST', url: '/api/auth/token/', payload: { email: u.email, password: PASSWORD } });
    assert.equal(login.statusCode, 200);
    assert.deepEqual(Object.keys(login.json()).sort(), ['access', 'refresh']);
    assert.equal(login.headers['set-cookie'], undefined);
    const r1 = await t.app.inject({ method: 'POST', url: '/api/auth/token/refresh/', payload: { refresh: login.json().refresh } });
    assert.equal(r1.statusCode, 200);
    assert.equal(r1.headers['set-cookie'], undefined);
    // Within the browser window, but on the JSON route: no grace.
    const replay = await t.app.inject({ method: 'POST', url: '/api/auth/token/refresh/', payload: { refresh: login.json().refresh } });
    assert.equal(replay.statusCode, 401);
    assert.equal((await me(t, r1.json().access)).statusCode, 401, 'the session was revoked');
    assert.equal(replay.headers['set-cookie'], undefined);
  });

  it('do not read the cookie, and the cookie routes do not take a bearer refresh token', async () => {
    const u = await signup(t.app);
    const cookieSession = await browserLogin(t, u);
    const viaJson = await t.app.inject({ method: 'POST', url: '/api/auth/token/refresh/', headers: { cookie: `chat_refresh=${cookieSession.cookie}` }, payload: {} });
    assert.equal(viaJson.statusCode, 400, 'the JSON route needs its body');
    const viaBody = await t.app.inject({ method: 'POST', url: '/api/auth/session/refresh/', headers: XHR, payload: { refresh: u.refresh } });
    assert.equal(viaBody.statusCode, 401, 'no cookie, no session');
    assert.equal((await sessionRefresh(t, cookieSession.cookie)).statusCode, 200);
  });
});

describe('browser session logs', () => {
  it('never writes the cookie or the tokens to the log', async () => {
    const env = await createTestEnv();
    try {
      const s = await startServer({ ...env.env, RATE_LIMIT_SIGNUP_PER_IP: '0' });
      const created = await fetch(`${s.base}/api/users/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'cookielog', email: 'cookielog@example.com', password: PASSWORD }) });
      assert.equal(created.status, 201);
      const login = await fetch(`${s.base}/api/auth/session/`, { method: 'POST', headers: { ...XHR, 'content-type': 'application/json' }, body: JSON.stringify({ email: 'cookielog@example.com', password: PASSWORD }) });
      assert.equal(login.status, 200);
      const cookie = /^chat_refresh=([^;]+)/.exec(login.headers.get('set-cookie')!)![1];
      const { access } = (await login.json()) as { access: string };
      const refreshed = await fetch(`${s.base}/api/auth/session/refresh/`, { method: 'POST', headers: { ...XHR, cookie: `chat_refresh=${cookie}` } });
      assert.equal(refreshed.status, 200);
      const next = /^chat_refresh=([^;]+)/.exec(refreshed.headers.get('set-cookie')!)![1];
      const { access: access2 } = (await refreshed.json()) as { access: string };
      const out = await fetch(`${s.base}/api/auth/session/logout/`, { method: 'POST', headers: { ...XHR, cookie: `chat_refresh=${next}` } });
      assert.equal(out.status, 204);
      s.proc.kill('SIGTERM');
      assert.equal(await s.exited, 0);
      const log = JSON.stringify(s.lines);
      assert.ok(s.lines.some((l) => l.req?.path === '/api/auth/session/refresh/'), 'the requests were logged');
      for (const secret of [cookie, next, access, access2, PASSWORD]) assert.ok(!log.includes(secret));
      assert.ok(!/set-cookie|chat_refresh/i.test(log));
    } finally {
      await env.cleanup();
    }
  });
});
