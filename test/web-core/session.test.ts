// The SDK's session: tokens renewed before they expire, a 401 renewed once, a revoked session
// ends (and says so), and the server's refusals read as sentences.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Api, ApiError, Session, jwtClaims } from '../../web/core/index.js';
import { PASSWORD, uniq } from '../helpers.js';
import { coreServer, type CoreServer } from './core-helpers.js';

describe('web core: the session (token mode)', () => {
  let server: CoreServer;
  before(async () => {
    server = await coreServer();
  });
  after(() => server.close());

  async function account() {
    const username = uniq('user');
    const email = `${username}@example.com`;
    const calls: string[] = [];
    const api = new Api({ baseUrl: server.base, fetch: (input, init) => (calls.push(`${init?.method} ${new URL(String(input)).pathname}`), fetch(input, init)) });
    let clock = Date.now();
    const session = new Session(api, { mode: 'token', now: () => clock });
    await session.signup({ username, email, password: PASSWORD });
    return { api, session, email, calls, advance: (ms: number) => (clock += ms) };
  }

  test('signs up, logs in, and knows who it is from the server', async () => {
    const { session, api, email } = await account();
    assert.equal(session.status.value, 'authenticated');
    assert.equal(session.user.value?.email, email);
    const me = await api.get<{ id: number }>(`/api/users/${session.user.value!.id}/`);
    assert.equal(me.id, session.user.value!.id);
    session.close();
  });

  test('renews the access token when it is about to expire, before sending', async () => {
    const { session, advance, calls } = await account();
    const first = await session.token();
    assert.equal(await session.token(), first, 'a fresh token is used as it is');
    assert.ok(!calls.includes('POST /api/auth/token/refresh/'));
    const ttl = jwtClaims(first!).exp! * 1000 - Date.now();
    advance(ttl - 1_000); // within the last seconds of its life
    assert.ok(await session.token());
    assert.equal(calls.filter((c) => c === 'POST /api/auth/token/refresh/').length, 1, 'renewed once');
    assert.equal(session.status.value, 'authenticated');
    session.close();
  });

  test('a revoked session ends with reason "expired", and requests then ask to log in', async () => {
    const { session, api } = await account();
    const ended: string[] = [];
    session.onEnded((r) => ended.push(r));
    const token = (await session.token())!;
    // Revoked elsewhere (as a logout from another device would).
    await api.raw('POST', '/api/auth/logout/', { token });
    await assert.rejects(api.get('/api/user_chats/'), (err: ApiError) => err.status === 401);
    assert.deepEqual(ended, ['expired']);
    assert.equal(session.status.value, 'anonymous');
    assert.equal(session.user.value, null);
  });

  test('logging out ends the session on the server too', async () => {
    const { session, api } = await account();
    const token = (await session.token())!;
    await session.logout();
    assert.equal(session.status.value, 'anonymous');
    await assert.rejects(api.raw('GET', '/api/user_chats/', { token }), (err: ApiError) => err.status === 401);
  });

  test('refusals read as sentences naming the field', async () => {
    const api = new Api({ baseUrl: server.base });
    const session = new Session(api, { mode: 'token' });
    await assert.rejects(session.signup({ username: uniq('u'), email: `${uniq('e')}@example.com`, password: '12345678' }), (err: ApiError) => {
      assert.equal(err.status, 400);
      assert.match(err.message, /^Password: /);
      assert.ok(err.fields?.password?.length);
      return true;
    });
    await assert.rejects(session.login('nobody@example.com', 'wrong-password-1'), (err: ApiError) => err.status === 400 && /credentials/.test(err.message));
    // An unreachable server is a network error, not a crash.
    const dead = new Api({ baseUrl: 'http://127.0.0.1:1' });
    await assert.rejects(dead.get('/api/config/', undefined, { auth: false }), (err: ApiError) => err.isNetwork && /reach the server/.test(err.message));
  });
});
