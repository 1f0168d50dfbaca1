import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { PASSWORD, REDIS_URL, createTestApp, createTestEnv, login, signup, type TestApp } from './helpers.js';

const me = (t: TestApp, auth: { authorization: string }) => t.app.inject({ method: 'GET', url: '/api/users/', headers: auth });
const refresh = (t: TestApp, token: string) => t.app.inject({ method: 'POST', url: '/api/auth/token/refresh/', payload: { refresh: token } });

describe('sessions', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ JWT_SECRET: 'x'.repeat(40) });
  });
  after(() => t.close());

  it('logs in with any case of the email; wrong password and unknown email get the same 400', async () => {
    const u = await signup(t.app);
    const ok = await t.app.inject({ method: 'POST', url: '/api/auth/token/', payload: { email: u.email.toUpperCase(), password: PASSWORD } });
    assert.equal(ok.statusCode, 200);
    assert.ok(ok.json().access && ok.json().refresh);
    const wrong = await t.app.inject({ method: 'POST', url: '/api/auth/token/', payload: { email: u.email, password: 'wrong-password-1' } });
    const unknown = await t.app.inject({ method: 'POST', url: '/api/auth/token/', payload: { email: 'nobody@example.com', password: 'wrong-password-1' } });
    assert.equal(wrong.statusCode, 400);
    assert.equal(unknown.statusCode, 400);
    assert.deepEqual(wrong.json(), unknown.json());
    const missing = await t.app.inject({ method: 'POST', url: '/api/auth/token/', payload: { email: u.email } });
    assert.deepEqual(missing.json(), { password: ['This field is required.'] });
  });

  it('refuses missing, malformed, forged and expired access tokens with 401 JSON', async () => {
    const u = await signup(t.app);
    for (const authorization of [undefined, 'Bearer', 'Basic abc', 'Bearer not.a.jwt', `Bearer ${u.refresh}`, `Bearer ${u.access}x`]) {
      const res = await t.app.inject({ method: 'GET', url: '/api/users/', headers: authorization ? { authorization } : {} });
      assert.equal(res.statusCode, 401, String(authorization));
      assert.ok(res.json().detail);
    }
    const key = new TextEncoder().encode('x'.repeat(40));
    const expired = await new SignJWT({ sid: 1, typ: 'access' }).setProtectedHeader({ alg: 'HS256' }).setSubject(String(u.id)).setIssuer('chat-server').setIssuedAt(1_000).setExpirationTime(2_000).sign(key);
    assert.equal((await me(t, { authorization: `Bearer ${expired}` })).statusCode, 401);
    const forged = await new SignJWT({ sid: 1, typ: 'access' }).setProtectedHeader({ alg: 'HS256' }).setSubject(String(u.id)).setIssuer('chat-server').setExpirationTime('5m').sign(new TextEncoder().encode('y'.repeat(40)));
    assert.equal((await me(t, { authorization: `Bearer ${forged}` })).statusCode, 401);
  });

  it('rotates refresh tokens; re-using a rotated one revokes the whole session', async () => {
    const u = await signup(t.app);
    const r1 = await refresh(t, u.refresh);
    assert.equal(r1.statusCode, 200);
    const pair1 = r1.json();
    assert.notEqual(pair1.refresh, u.refresh);
    assert.equal((await me(t, { authorization: `Bearer ${pair1.access}` })).statusCode, 200);
    const r2 = await refresh(t, pair1.refresh);
    assert.equal(r2.statusCode, 200);
    const pair2 = r2.json();
    // The thief replays the first refresh token: refused, and the session is over for everyone.
    assert.equal((await refresh(t, u.refresh)).statusCode, 401);
    assert.equal((await refresh(t, pair2.refresh)).statusCode, 401);
    assert.equal((await me(t, { authorization: `Bearer ${pair2.access}` })).statusCode, 401);
    // Other sessions of the same user are untouched.
    const other = await login(t.app, u.email);
    assert.equal((await me(t, other.auth)).statusCode, 200);
  });

  it('refuses garbage refresh tokens without revoking anything', async () => {
    const u = await signup(t.app);
    for (const token of ['nope', u.access, `${u.refresh}x`]) assert.equal((await refresh(t, token)).statusCode, 401);
    assert.equal((await refresh(t, u.refresh)).statusCode, 200);
    assert.equal((await refresh(t, '')).statusCode, 400);
  });

  it('logout ends the session at once: access and refresh both stop working', async () => {
    const u = await signup(t.app);
    const other = await login(t.app, u.email);
    const out = await t.app.inject({ method: 'POST', url: '/api/auth/logout/', headers: u.auth });
    assert.equal(out.statusCode, 204);
    assert.equal((await me(t, u.auth)).statusCode, 401);
    assert.equal((await refresh(t, u.refresh)).statusCode, 401);
    assert.equal((await me(t, other.auth)).statusCode, 200, 'other sessions stay');
  });

  it('a password change revokes the other sessions, keeps this one, and changes the login', async () => {
    const u = await signup(t.app);
    const other = await login(t.app, u.email);
    const bad = await t.app.inject({ method: 'POST', url: '/api/auth/password/', headers: u.auth, payload: { old_password: 'wrong-one-123', new_password: 'brand-new-pass-42' } });
    assert.equal(bad.statusCode, 400);
    assert.ok(bad.json().old_password);
    const weak = await t.app.inject({ method: 'POST', url: '/api/auth/password/', headers: u.auth, payload: { old_password: PASSWORD, new_password: '12345678' } });
    assert.equal(weak.statusCode, 400);
    assert.ok(weak.json().new_password);
    const ok = await t.app.inject({ method: 'POST', url: '/api/auth/password/', headers: u.auth, payload: { old_password: PASSWORD, new_password: 'brand-new-pass-42' } });
    assert.equal(ok.statusCode, 204);
    assert.equal((await me(t, u.auth)).statusCode, 200);
    assert.equal((await me(t, other.auth)).statusCode, 401);
    assert.equal((await refresh(t, other.refresh)).statusCode, 401);
    await login(t.app, u.email, 'brand-new-pass-42');
  });

  it('tokens survive a restart of the server (the session and secret are durable)', async () => {
    const env = await createTestEnv();
    const first = await createTestApp({}, env);
    const u = await signup(first.app);
    await first.close();
    const second = await createTestApp({}, env);
    try {
      assert.equal((await me(second, u.auth)).statusCode, 200);
      assert.equal((await refresh(second, u.refresh)).statusCode, 200);
    } finally {
      await second.close();
      await env.cleanup();
    }
  });

  it('a session revoked before an instance started is refused by it', async () => {
    const env = await createTestEnv();
    const a = await createTestApp({}, env);
    const u = await signup(a.app);
    await a.app.inject({ method: 'POST', url: '/api/auth/logout/', headers: u.auth });
    await a.close();
    const b = await createTestApp({}, env);
    try {
      assert.equal((await me(b, u.auth)).statusCode, 401);
    } finally {
      await b.close();
      await env.cleanup();
    }
  });

  it('revocation reaches every instance through Redis', { skip: REDIS_URL ? false : 'needs Redis (TEST_REDIS_URL)' }, async () => {
    const env = await createTestEnv();
    const a = await createTestApp({}, env);
    const b = await createTestApp({}, env);
    try {
      const u = await signup(a.app);
      assert.equal((await me(b, u.auth)).statusCode, 200);
      const seen = new Promise<void>((resolve) => b.ctx.revocations.onRevoked(() => resolve()));
      await a.app.inject({ method: 'POST', url: '/api/auth/logout/', headers: u.auth });
      await seen;
      assert.equal((await me(b, u.auth)).statusCode, 401);
    } finally {
      await a.close();
      await b.close();
      await env.cleanup();
    }
  });
});

describe('rate limits', () => {
  it('limits failed logins per account and address with 429 and Retry-After; other addresses still log in', async () => {
    const t = await createTestApp({ RATE_LIMIT_LOGIN_FAILURES: '3' });
    try {
      const u = await signup(t.app);
      for (let i = 0; i < 3; i++) {
        const res = await t.app.inject({ method: 'POST', url: '/api/auth/token/', payload: { email: u.email, password: 'wrong-password-1' }, remoteAddress: '10.0.0.1' });
        assert.equal(res.statusCode, 400);
      }
      const blocked = await t.app.inject({ method: 'POST', url: '/api/auth/token/', payload: { email: u.email, password: PASSWORD }, remoteAddress: '10.0.0.1' });
      assert.equal(blocked.statusCode, 429);
      assert.ok(Number(blocked.headers['retry-after']) > 0);
      assert.ok(blocked.json().detail);
      const elsewhere = await t.app.inject({ method: 'POST', url: '/api/auth/token/', payload: { email: u.email, password: PASSWORD }, remoteAddress: '10.0.0.9' });
      assert.equal(elsewhere.statusCode, 200, 'a stranger cannot lock the owner out (the ceiling across addresses: limits-login.test.ts)');
      const otherAccount = await signup(t.app);
      assert.ok(otherAccount.access, 'other accounts can still log in');
    } finally {
      await t.close();
    }
  });

  it('counts parallel guesses too: only the allowed number is checked', async () => {
    const t = await createTestApp({ RATE_LIMIT_LOGIN_FAILURES: '3' });
    try {
      const u = await signup(t.app);
      const codes = await Promise.all(
        Array.from({ length: 20 }, (_, i) => t.app.inject({ method: 'POST', url: '/api/auth/token/', payload: { email: u.email, password: `guess-number-${i}` } }).then((r) => r.statusCode)),
      );
      assert.equal(codes.filter((c) => c === 400).length, 3);
      assert.equal(codes.filter((c) => c === 429).length, 17);
    } finally {
      await t.close();
    }
  });

  it('keeps per-account and per-address login counters apart: a body naming an address uses up nothing of it', async () => {
    const t = await createTestApp({ RATE_LIMIT_LOGIN_PER_IP: '3', RATE_LIMIT_LOGIN_FAILURES: '100' });
    try {
      // Sent from 10.0.0.7 as a login for the "account" 10.0.0.8: three failures, then the address limit.
      const from = (remoteAddress: string) =>
        t.app.inject({ method: 'POST', url: '/api/auth/token/', payload: { email: '10.0.0.8', password: 'wrong-password-1' }, remoteAddress }).then((r) => r.statusCode);
      const codes = [];
      for (let i = 0; i < 4; i++) codes.push(await from('10.0.0.7'));
      assert.deepEqual(codes, [400, 400, 400, 429]);
      // 10.0.0.8 itself still has its whole allowance.
      assert.equal(await from('10.0.0.8'), 400);
    } finally {
      await t.close();
    }
  });

  it('takes the client address from X-Forwarded-For only from trusted proxies', async () => {
    for (const [trust, expected] of [['loopback', [201, 201]], ['false', [201, 429]]] as const) {
      const t = await createTestApp({ RATE_LIMIT_SIGNUP_PER_IP: '1', TRUST_PROXY: trust });
      try {
        const codes = [];
        for (const ip of ['203.0.113.1', '203.0.113.2']) {
          const name = `xff${ip.split('.').pop()}${trust}${process.pid}`;
          const res = await t.app.inject({ method: 'POST', url: '/api/users/', headers: { 'x-forwarded-for': ip }, payload: { username: name, email: `${name}@example.com`, password: PASSWORD } });
          codes.push(res.statusCode);
        }
        assert.deepEqual(codes, expected, `TRUST_PROXY=${trust}`);
      } finally {
        await t.close();
      }
    }
  });

  it('limits signups, logins and refreshes per address', async () => {
    const t = await createTestApp({ RATE_LIMIT_SIGNUP_PER_IP: '2', RATE_LIMIT_LOGIN_PER_IP: '2', RATE_LIMIT_REFRESH_PER_IP: '1' });
    try {
      const body = (n: number) => ({ username: `rl${n}${process.pid}`, email: `rl${n}${process.pid}@example.com`, password: PASSWORD });
      const codes = [];
      for (let i = 0; i < 3; i++) codes.push((await t.app.inject({ method: 'POST', url: '/api/users/', payload: body(i), remoteAddress: '10.1.1.1' })).statusCode);
      assert.deepEqual(codes, [201, 201, 429]);
      const elsewhere = await t.app.inject({ method: 'POST', url: '/api/users/', payload: body(3), remoteAddress: '10.1.1.2' });
      assert.equal(elsewhere.statusCode, 201);
      const logins = [];
      for (let i = 0; i < 3; i++) logins.push((await t.app.inject({ method: 'POST', url: '/api/auth/token/', payload: { email: body(0).email, password: PASSWORD }, remoteAddress: '10.1.1.3' })).statusCode);
      assert.deepEqual(logins, [200, 200, 429]);
      const seedLogin = await t.app.inject({ method: 'POST', url: '/userauth/userLogin', payload: { email: body(0).email, password: PASSWORD }, remoteAddress: '10.1.1.3' });
      assert.equal(seedLogin.statusCode, 429, 'seed-0 login shares the limit');
      const r = await t.app.inject({ method: 'POST', url: '/api/auth/token/refresh/', payload: { refresh: 'x' }, remoteAddress: '10.1.1.4' });
      const r2 = await t.app.inject({ method: 'POST', url: '/api/auth/token/refresh/', payload: { refresh: 'x' }, remoteAddress: '10.1.1.4' });
      assert.deepEqual([r.statusCode, r2.statusCode], [401, 429]);
      assert.ok(r2.headers['retry-after']);
    } finally {
      await t.close();
    }
  });
});

describe('refresh limits', () => {
  it('limits refreshes per account, whatever the address', async () => {
    const t = await createTestApp({ RATE_LIMIT_REFRESH_PER_ACCOUNT: '2' });
    try {
      const u = await signup(t.app);
      let token = u.refresh;
      const codes = [];
      for (let i = 0; i < 3; i++) {
        const res = await t.app.inject({ method: 'POST', url: '/api/auth/token/refresh/', payload: { refresh: token }, remoteAddress: `10.2.0.${i}` });
        codes.push(res.statusCode);
        if (res.statusCode === 200) token = res.json().refresh;
      }
      assert.deepEqual(codes, [200, 200, 429]);
      const other = await signup(t.app);
      assert.equal((await refresh(t, other.refresh)).statusCode, 200, 'other accounts are not affected');
    } finally {
      await t.close();
    }
  });
});

describe('password hashing', () => {
  it('a login storm does not stall other requests', async () => {
    // The account limit counts attempts; this test is about hashing, not limits.
    const t = await createTestApp({ RATE_LIMIT_LOGIN_FAILURES: '0' });
    try {
      const u = await signup(t.app);
      let loginsDone = 0;
      const storm = Array.from({ length: 20 }, () =>
        t.app.inject({ method: 'POST', url: '/api/auth/token/', payload: { email: u.email, password: PASSWORD } }).then((r) => {
          loginsDone++;
          return r.statusCode;
        }),
      );
      const health = await t.app.inject({ method: 'GET', url: '/api/users/', headers: u.auth });
      assert.equal(health.statusCode, 200);
      assert.ok(loginsDone < 20, `the other request was answered while logins were still hashing (${loginsDone}/20 done)`);
      assert.deepEqual(await Promise.all(storm), Array(20).fill(200));
    } finally {
      await t.close();
    }
  });
});
