import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pathOf } from './chat-helpers.js';
import { PASSWORD, PNG, createTestApp, login, multipart, signup, uniq, type TestApp } from './helpers.js';
import { dataUrl, padTo } from './media-helpers.js';

describe('accounts', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  const post = (payload: unknown, headers?: Record<string, string>) =>
    t.app.inject({ method: 'POST', url: '/api/users/', payload: payload as string, headers });

  it('signs up with JSON and returns the user without any password field', async () => {
    const username = uniq();
    const res = await post({ username, email: `${username}@Example.COM`, password: PASSWORD, first_name: 'Ada', bio: 'hi' });
    assert.equal(res.statusCode, 201);
    const user = res.json();
    assert.equal(user.username, username);
    assert.equal(user.first_name, 'Ada');
    assert.equal(user.status, 'offline');
    assert.equal(user.profile_picture, null);
    assert.ok(!JSON.stringify(user).toLowerCase().includes('password'));
    assert.match(user.date_joined, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('signs up with a urlencoded form', async () => {
    const username = uniq();
    const form = new URLSearchParams({ username, email: `${username}@example.com`, password: PASSWORD, last_name: 'Form' });
    const res = await post(form.toString(), { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().last_name, 'Form');
  });

  it('signs up with multipart and a real image, which is then served', async () => {
    const username = uniq();
    const form = multipart({ username, email: `${username}@example.com`, password: PASSWORD, first_name: 'Pic', profile_picture: { filename: 'me.png', type: 'image/png', data: PNG } });
    const res = await post(form.payload, form.headers);
    assert.equal(res.statusCode, 201, res.body);
    const url = new URL(res.json().profile_picture);
    assert.match(url.pathname, /^\/media\/avatars\/[\w-]+\.png$/);
    const img = await t.app.inject({ method: 'GET', url: url.pathname });
    assert.equal(img.statusCode, 200);
    assert.equal(img.headers['content-type'], 'image/png');
    assert.equal(img.headers['x-content-type-options'], 'nosniff');
    assert.deepEqual(img.rawPayload, PNG);
  });

  it('accepts a data: URL profile picture', async () => {
    const username = uniq();
    const res = await post({ username, email: `${username}@example.com`, password: PASSWORD, profile_picture: dataUrl(PNG, 'image/png') });
    assert.equal(res.statusCode, 201, res.body);
    assert.match(res.json().profile_picture, /\/media\/avatars\/.+\.png$/);
  });

  it('refuses a file that only claims to be an image', async () => {
    const username = uniq();
    const form = multipart({ username, email: `${username}@example.com`, password: PASSWORD, profile_picture: { filename: 'x.png', type: 'image/png', data: Buffer.from('<script>alert(1)</script>') } });
    const res = await post(form.payload, form.headers);
    assert.equal(res.statusCode, 400);
    assert.ok(res.json().profile_picture);
    const viaDataUrl = await post({ username, email: `${username}@example.com`, password: PASSWORD, profile_picture: dataUrl(Buffer.from('%PDF-1.4 nope'), 'image/png') });
    assert.equal(viaDataUrl.statusCode, 400);
  });

  it('refuses an oversized profile picture with 413', async () => {
    const small = await createTestApp({ AVATAR_MAX_BYTES: '1024' });
    try {
      const big = padTo(PNG, PNG.length + 4096);
      const username = uniq();
      const form = multipart({ username, email: `${username}@example.com`, password: PASSWORD, profile_picture: { filename: 'big.png', type: 'image/png', data: big } });
      const res = await small.app.inject({ method: 'POST', url: '/api/users/', payload: form.payload, headers: form.headers });
      assert.equal(res.statusCode, 413);
      const viaDataUrl = await small.app.inject({ method: 'POST', url: '/api/users/', payload: { username, email: `${username}@example.com`, password: PASSWORD, profile_picture: dataUrl(big, 'image/png') } });
      assert.equal(viaDataUrl.statusCode, 413);
    } finally {
      await small.close();
    }
  });

  it('applies the password rules: length, all digits, common, like the username', async () => {
    const cases: Array<[string, RegExp]> = [
      ['short1', /too short/],
      ['1234567890123', /entirely numeric/],
      ['password123', /too common/],
      ['iloveyou', /too common/],
    ];
    for (const [password, message] of cases) {
      const username = uniq();
      const res = await post({ username, email: `${username}@example.com`, password });
      assert.equal(res.statusCode, 400, password);
      assert.ok(res.json().password.some((m: string) => message.test(m)), `${password}: ${res.body}`);
    }
    const res = await post({ username: 'grace.hopper.x', email: `${uniq()}@example.com`, password: 'grace.hopper.x' });
    assert.equal(res.statusCode, 400);
    assert.match(res.json().password.join(' '), /too similar/);
  });

  it('keeps emails unique regardless of case, and usernames unique', async () => {
    const first = await signup(t.app);
    const again = await post({ username: uniq(), email: first.email.toUpperCase(), password: PASSWORD });
    assert.equal(again.statusCode, 400);
    assert.ok(again.json().email);
    const sameName = await post({ username: first.username.toUpperCase(), email: `${uniq()}@example.com`, password: PASSWORD });
    assert.equal(sameName.statusCode, 400);
    assert.ok(sameName.json().username);
  });

  it('reports every missing or invalid field at once', async () => {
    const res = await post({ username: 'bad name!', email: 'not-an-email' });
    assert.equal(res.statusCode, 400);
    const body = res.json();
    assert.deepEqual(Object.keys(body).sort(), ['email', 'password', 'username']);
    assert.deepEqual(body.password, ['This field is required.']);
  });

  it('lists users 20 a page with next/previous and searches name, username and whole emails', async () => {
    const tag = uniq('zz');
    for (let i = 0; i < 22; i++) await signup(t.app, { first_name: `${tag}`, username: `${tag}_${i}`, email: `${tag}_${i}@example.com` });
    const me = await signup(t.app);
    const page1 = await t.app.inject({ method: 'GET', url: `/api/users/?search=${tag}`, headers: me.auth });
    assert.equal(page1.statusCode, 200);
    const b1 = page1.json();
    assert.equal(b1.count, 22);
    assert.equal(b1.results.length, 20);
    assert.equal(b1.previous, null);
    assert.ok(b1.next.includes('page=2'));
    const page2 = await t.app.inject({ method: 'GET', url: pathOf(b1.next), headers: me.auth });
    const b2 = page2.json();
    assert.equal(b2.results.length, 2);
    assert.equal(b2.next, null);
    assert.ok(b2.previous);
    const ids = new Set([...b1.results, ...b2.results].map((u: { id: number }) => u.id));
    assert.equal(ids.size, 22);
    const byEmail = await t.app.inject({ method: 'GET', url: `/api/users/?search=${tag.toUpperCase()}_1@EXAMPLE.com`, headers: me.auth });
    assert.equal(byEmail.json().count, 1, 'a whole address, in any case');
    const partEmail = await t.app.inject({ method: 'GET', url: `/api/users/?search=_1@example.com`, headers: me.auth });
    assert.equal(partEmail.json().count, 0, 'addresses cannot be read off the search');
    assert.ok(b1.results.every((u: { email: string | null; status: string | null }) => u.email === null && u.status === null), 'strangers see no email or presence');
    const wildcard = await t.app.inject({ method: 'GET', url: `/api/users/?search=%25`, headers: me.auth });
    assert.equal(wildcard.json().count, 0, 'a % in the search is a literal character');
  });

  it('requires a token to list or retrieve users', async () => {
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/users/' })).statusCode, 401);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/users/1/' })).statusCode, 401);
  });

  it('shows email to the account itself and staff, presence also to room mates, neither to strangers', async () => {
    const [me, mate, stranger, staff] = [await signup(t.app), await signup(t.app), await signup(t.app), await signup(t.app)];
    await t.ctx.db.updateTable('users').set({ is_staff: 1 }).where('id', '=', staff.id).execute();
    const room = await t.app.inject({ method: 'POST', url: '/api/chat_rooms/', headers: me.auth, payload: { room_type: 'private', members: [mate.id] } });
    assert.equal(room.statusCode, 201);
    const seenBy = async (viewer: typeof me) => (await t.app.inject({ method: 'GET', url: `/api/users/${me.id}/`, headers: viewer.auth })).json();
    const own = await seenBy(me);
    assert.deepEqual([own.email, own.status], [me.email, 'offline']);
    assert.deepEqual([(await seenBy(staff)).email, (await seenBy(staff)).status], [me.email, 'offline']);
    const byMate = await seenBy(mate);
    assert.deepEqual([byMate.email, byMate.status], [null, 'offline']);
    const byStranger = await seenBy(stranger);
    assert.deepEqual([byStranger.email, byStranger.status, byStranger.last_seen, byStranger.username], [null, null, null, me.username]);
  });

  it('strips line breaks, bidirectional overrides and invisible characters from names', async () => {
    const u = await signup(t.app, { first_name: 'Eve\n[SYSTEM] Your password expired', last_name: '\u202eredlof\u200b\u2066x\u2069' });
    const me = (await t.app.inject({ method: 'GET', url: `/api/users/${u.id}/`, headers: u.auth })).json();
    assert.deepEqual([me.first_name, me.last_name], ['Eve[SYSTEM] Your password expired', 'redlofx']);
    const patched = await t.app.inject({ method: 'PATCH', url: `/api/users/${u.id}/`, headers: u.auth, payload: { first_name: 'Zo\u200ce\u0007' } });
    assert.equal(patched.json().first_name, 'Zo\u200ce', 'a zero-width non-joiner stays (scripts need it)');
    const room = await t.app.inject({ method: 'POST', url: '/api/chat_rooms/', headers: u.auth, payload: { room_type: 'group', name: 'ops\r\n\u202ealert' } });
    assert.equal(room.json().name, 'opsalert');
  });

  it('retrieves a user and answers 404 for an unknown one', async () => {
    const a = await signup(t.app);
    const b = await signup(t.app, { bio: 'about b' });
    const res = await t.app.inject({ method: 'GET', url: `/api/users/${b.id}/`, headers: a.auth });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(Object.keys(res.json()).sort(), ['bio', 'date_joined', 'email', 'first_name', 'id', 'is_staff', 'last_name', 'last_seen', 'profile_picture', 'status', 'username']);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/users/999999/', headers: a.auth })).statusCode, 404);
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/users/abc/', headers: a.auth })).statusCode, 400);
  });

  it('lets users edit only their own profile', async () => {
    const a = await signup(t.app);
    const b = await signup(t.app);
    const own = await t.app.inject({ method: 'PATCH', url: `/api/users/${a.id}/`, headers: a.auth, payload: { bio: 'new bio', first_name: 'A' } });
    assert.equal(own.statusCode, 200);
    assert.equal(own.json().bio, 'new bio');
    const put = await t.app.inject({ method: 'PUT', url: `/api/users/${a.id}`, headers: a.auth, payload: { last_name: 'Put' } });
    assert.equal(put.statusCode, 200);
    assert.equal(put.json().bio, 'new bio');
    const other = await t.app.inject({ method: 'PATCH', url: `/api/users/${b.id}/`, headers: a.auth, payload: { bio: 'hacked' } });
    assert.equal(other.statusCode, 403);
    const check = await t.app.inject({ method: 'GET', url: `/api/users/${b.id}/`, headers: a.auth });
    assert.equal(check.json().bio, '');
    const taken = await t.app.inject({ method: 'PATCH', url: `/api/users/${a.id}/`, headers: a.auth, payload: { email: b.email.toUpperCase() } });
    assert.equal(taken.statusCode, 400);
    const pw = await t.app.inject({ method: 'PATCH', url: `/api/users/${a.id}/`, headers: a.auth, payload: { password: 'another-pass-123' } });
    assert.equal(pw.statusCode, 400);
    assert.ok(pw.json().password);
  });

  it('replaces and removes a profile picture', async () => {
    const a = await signup(t.app);
    const form = multipart({ profile_picture: { filename: 'a.png', type: 'image/png', data: PNG } });
    const set = await t.app.inject({ method: 'PATCH', url: `/api/users/${a.id}/`, headers: { ...a.auth, ...form.headers }, payload: form.payload });
    assert.equal(set.statusCode, 200, set.body);
    const path = new URL(set.json().profile_picture).pathname;
    const cleared = await t.app.inject({ method: 'PATCH', url: `/api/users/${a.id}/`, headers: a.auth, payload: { profile_picture: null } });
    assert.equal(cleared.json().profile_picture, null);
    assert.equal((await t.app.inject({ method: 'GET', url: path })).statusCode, 404, 'the old file is removed');
  });

  it('deletes only your own account; its tokens then answer 401 and it is gone', async () => {
    const a = await signup(t.app);
    const b = await signup(t.app);
    assert.equal((await t.app.inject({ method: 'DELETE', url: `/api/users/${b.id}/`, headers: a.auth })).statusCode, 403);
    const second = await login(t.app, a.email);
    const del = await t.app.inject({ method: 'DELETE', url: `/api/users/${a.id}/`, headers: a.auth });
    assert.equal(del.statusCode, 204);
    assert.equal((await t.app.inject({ method: 'GET', url: `/api/users/${b.id}/`, headers: a.auth })).statusCode, 401);
    assert.equal((await t.app.inject({ method: 'GET', url: `/api/users/${b.id}/`, headers: second.auth })).statusCode, 401);
    assert.equal((await t.app.inject({ method: 'POST', url: '/api/auth/token/refresh/', payload: { refresh: second.refresh } })).statusCode, 401);
    assert.equal((await t.app.inject({ method: 'GET', url: `/api/users/${a.id}/`, headers: b.auth })).statusCode, 404);
    const relogin = await t.app.inject({ method: 'POST', url: '/api/auth/token/', payload: { email: a.email, password: PASSWORD } });
    assert.equal(relogin.statusCode, 400);
    const reuse = await post({ username: a.username, email: a.email, password: PASSWORD });
    assert.equal(reuse.statusCode, 201, 'the email and username are free again');
  });
});
