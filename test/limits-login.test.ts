// Login throttling that slows guessing without letting strangers lock an account (issue 15):
// failures are counted per account and client address (RATE_LIMIT_LOGIN_FAILURES), and per account
// from addresses it has not logged in from, all together (RATE_LIMIT_LOGIN_ACCOUNT_CEILING).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthService } from '../src/modules/auth/auth.service.js';
import { PASSWORD, createTestApp, signup, type TestApp } from './helpers.js';

const WRONG = 'wrong-password-1';

/** A login over HTTP from `remoteAddress` through one of the three log-in routes; the status. */
async function attempt(t: TestApp, email: string, password: string, remoteAddress: string, route: 'token' | 'session' | 'seed0' = 'token') {
  const url = route === 'token' ? '/api/auth/token/' : route === 'session' ? '/api/auth/session/' : '/userauth/userLogin';
  const headers = route === 'session' ? { 'x-requested-with': 'XMLHttpRequest' } : {};
  const res = await t.app.inject({ method: 'POST', url, payload: { email, password }, remoteAddress, headers });
  if (res.statusCode === 429) assert.ok(Number(res.headers['retry-after']) > 0, 'a 429 says when to retry');
  if (res.statusCode >= 400) assert.ok(res.json().detail, `JSON error: ${res.body}`);
  return res.statusCode;
}

/** The service as the routes call it, with the client address (no HTTP: the address is given as is). */
async function serviceAttempt(auth: AuthService, email: string, password: string, address: string): Promise<number> {
  try {
    await auth.login(email, password, address);
    return 200;
  } catch (err) {
    return (err as { statusCode?: number }).statusCode ?? 500;
  }
}

const LIMITS = { RATE_LIMIT_LOGIN_PER_IP: '0', RATE_LIMIT_SIGNUP_PER_IP: '0' };

describe('login throttling (service)', () => {
  it('counts failures per account and address: a stranger locks only their own address out', async () => {
    const t = await createTestApp({ ...LIMITS, RATE_LIMIT_LOGIN_FAILURES: '3' });
    try {
      const auth = new AuthService(t.ctx);
      const victim = await signup(t.app);
      const codes = [];
      for (let i = 0; i < 11; i++) codes.push(await serviceAttempt(auth, victim.email, WRONG, '203.0.113.66'));
      assert.deepEqual(codes, [400, 400, 400, ...Array(8).fill(429)]);
      assert.equal(await serviceAttempt(auth, victim.email, PASSWORD, '203.0.113.66'), 429, 'the guessing address stays refused, even with the password');
      assert.equal(await serviceAttempt(auth, victim.email, PASSWORD, '198.51.100.7'), 200, 'the owner logs in from their own address');
    } finally {
      await t.close();
    }
  });

  it('stops a distributed guess at the per-account ceiling, but not the owner on an address they logged in from', async () => {
    const t = await createTestApp({ ...LIMITS, RATE_LIMIT_LOGIN_FAILURES: '2', RATE_LIMIT_LOGIN_ACCOUNT_CEILING: '5' });
    try {
      const auth = new AuthService(t.ctx);
      const victim = await signup(t.app);
      assert.equal(await serviceAttempt(auth, victim.email, PASSWORD, '198.51.100.7'), 200, 'the owner, once, from home');
      const codes = [];
      for (let i = 1; i <= 8; i++) codes.push(await serviceAttempt(auth, victim.email, WRONG, `203.0.113.${i}`));
      // Five attempts from addresses new to the account: the sign-up's log-in, the owner's first from home, three guesses.
      assert.deepEqual(codes, [400, 400, 400, 429, 429, 429, 429, 429], 'three guesses, then the wall');
      assert.equal(await serviceAttempt(auth, victim.email, PASSWORD, '192.0.2.50'), 429, 'a new address is behind the wall too, password or not');
      assert.equal(await serviceAttempt(auth, victim.email, PASSWORD, '198.51.100.7'), 200, 'the owner is not locked out at home');
    } finally {
      await t.close();
    }
  });

  it('treats an IPv6 /64 as one address', async () => {
    const t = await createTestApp({ ...LIMITS, RATE_LIMIT_LOGIN_FAILURES: '2' });
    try {
      const auth = new AuthService(t.ctx);
      const victim = await signup(t.app);
      const codes = [];
      for (const ip of ['2001:db8:1:2::1', '2001:db8:1:2:ffff::9', '2001:db8:1:2::abcd']) codes.push(await serviceAttempt(auth, victim.email, WRONG, ip));
      assert.deepEqual(codes, [400, 400, 429]);
      assert.equal(await serviceAttempt(auth, victim.email, WRONG, '2001:db8:1:3::1'), 400, 'another /64 has its own count');
      assert.equal(await serviceAttempt(auth, victim.email, PASSWORD, '::ffff:198.51.100.7'), 200, 'an IPv4-mapped address is its IPv4 address');
    } finally {
      await t.close();
    }
  });

  it('keeps one answer for a wrong password, an unknown email and a deleted account', async () => {
    const t = await createTestApp({ ...LIMITS, RATE_LIMIT_LOGIN_FAILURES: '3' });
    try {
      const auth = new AuthService(t.ctx);
      const [live, gone] = [await signup(t.app), await signup(t.app)];
      assert.equal((await t.app.inject({ method: 'DELETE', url: `/api/users/${gone.id}/`, headers: gone.auth })).statusCode, 204);
      const messages = [];
      for (const [email, password] of [[live.email, WRONG], ['nobody@example.com', WRONG], [gone.email, PASSWORD]]) {
        const err = await auth.login(email, password, '203.0.113.5').then(() => null, (e) => e);
        messages.push([err?.statusCode, err?.message]);
      }
      assert.equal(new Set(messages.map((m) => JSON.stringify(m))).size, 1, JSON.stringify(messages));
      assert.equal(messages[0][0], 400);
    } finally {
      await t.close();
    }
  });
});

// These go through the routes: they need the routes to hand the client address to the service
// (auth.login(email, password, request.ip)), a change to files outside this one's (see the report
// of issue 15). Until then they are marked todo: remove `todo` together with that change.
const ROUTES_PASS_ADDRESS = true;
const httpIt = ROUTES_PASS_ADDRESS ? it : it.todo;

describe('login throttling (HTTP)', () => {
  httpIt('a stranger guessing from one address does not lock the owner out of any log-in route', async () => {
    const t = await createTestApp({ ...LIMITS, RATE_LIMIT_LOGIN_FAILURES: '3' });
    try {
      const victim = await signup(t.app);
      const codes = [];
      for (let i = 0; i < 11; i++) codes.push(await attempt(t, victim.email, WRONG, '203.0.113.66', (['token', 'session', 'seed0'] as const)[i % 3]));
      assert.deepEqual(codes, [400, 400, 400, ...Array(8).fill(429)]);
      for (const route of ['token', 'session', 'seed0'] as const) {
        assert.equal(await attempt(t, victim.email, WRONG, '203.0.113.66', route), 429, `${route}: the guessing address is refused`);
        assert.equal(await attempt(t, victim.email, PASSWORD, '198.51.100.7', route), 200, `${route}: the owner logs in from their own address`);
      }
    } finally {
      await t.close();
    }
  });

  httpIt('the owner on their own address still has the small limit, cleared by a success', async () => {
    const t = await createTestApp({ ...LIMITS, RATE_LIMIT_LOGIN_FAILURES: '3' });
    try {
      const victim = await signup(t.app);
      const home = '198.51.100.7';
      assert.deepEqual([await attempt(t, victim.email, WRONG, home), await attempt(t, victim.email, WRONG, home)], [400, 400]);
      assert.equal(await attempt(t, victim.email, PASSWORD, home), 200);
      const codes = [];
      for (let i = 0; i < 4; i++) codes.push(await attempt(t, victim.email, WRONG, home));
      assert.deepEqual(codes, [400, 400, 400, 429], 'the success cleared the count; three more, then refused');
      assert.equal(await attempt(t, victim.email, PASSWORD, home), 429, 'counted before the check');
    } finally {
      await t.close();
    }
  });

  httpIt('a distributed guess hits the per-account ceiling; the owner still logs in where they did before', async () => {
    const t = await createTestApp({ ...LIMITS, RATE_LIMIT_LOGIN_FAILURES: '2', RATE_LIMIT_LOGIN_ACCOUNT_CEILING: '5' });
    try {
      const victim = await signup(t.app);
      assert.equal(await attempt(t, victim.email, PASSWORD, '198.51.100.7'), 200);
      const codes = [];
      for (let i = 1; i <= 8; i++) codes.push(await attempt(t, victim.email, WRONG, `203.0.113.${i}`));
      assert.deepEqual(codes, [400, 400, 400, 429, 429, 429, 429, 429], 'as above: five attempts from new addresses in all');
      assert.equal(await attempt(t, victim.email, PASSWORD, '192.0.2.50'), 429);
      assert.equal(await attempt(t, victim.email, PASSWORD, '198.51.100.7'), 200);
    } finally {
      await t.close();
    }
  });
});
