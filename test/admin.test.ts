// Server administration: staff made by the real CLI (a child process on the test's database),
// the staff-only routes, deactivation closing sockets at once, deleting any message, and the counts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { usersRepository } from '../src/modules/users/users.repository.js';
import { call, chatApp, group, ok, pathOf, privateRoom, send, users } from './chat-helpers.js';
import { PASSWORD, login, signup, uniq, type TestApp, type TestUser } from './helpers.js';
import { connect, listen, type Sock } from './ws-helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const GENERAL = '/ws/general_updates/';
const STATUS = '/ws/user_status/';
const STAFF_PASSWORD = 'analytical-engine-1843';

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `src/cli/admin.ts` as a child process on `t`'s database (its DATA_DIR, and DATABASE_URL on PostgreSQL), stdin not a terminal. */
function runCli(t: TestApp, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/admin.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...t.env.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const ADMIN_ROUTES: Array<[method: 'GET' | 'POST' | 'DELETE', url: (id: number) => string]> = [
  ['GET', () => '/api/admin/users/'],
  ['POST', (id) => `/api/admin/users/${id}/deactivate/`],
  ['POST', (id) => `/api/admin/users/${id}/reactivate/`],
  ['DELETE', (id) => `/api/admin/messages/${id}/`],
  ['GET', () => '/api/admin/stats/'],
];

describe('server administration', () => {
  let t: TestApp;
  let base: string;
  let staff: TestUser;
  const open: Sock[] = [];
  const sock = async (user: TestUser, endpoint = GENERAL) => {
    const s = await connect(base, endpoint, { token: user.access });
    open.push(s);
    return s;
  };
  const stats = (who: TestUser) => ok(call(t, who, 'GET', '/api/admin/stats/'));
  const adminList = (query: string, who: TestUser = staff) => ok(call(t, who, 'GET', `/api/admin/users/?${query}`));
  const deactivate = (id: number, who: TestUser = staff) => call(t, who, 'POST', `/api/admin/users/${id}/deactivate/`);
  const reactivate = (id: number, who: TestUser = staff) => call(t, who, 'POST', `/api/admin/users/${id}/reactivate/`);

  before(async () => {
    t = await chatApp();
    base = await listen(t);
    // The first member of staff: an ordinary account, promoted by the CLI.
    staff = await signup(t.app);
    const promoted = await runCli(t, ['createsuperuser', '--username', staff.username, '--email', staff.email]);
    assert.equal(promoted.code, 0, promoted.stderr);
  });
  after(async () => {
    await Promise.all(open.map((s) => s.close()));
    await t.close();
  });

  it('answers 401 without a token and 403 to everyone but staff, on every admin route', async () => {
    const [plain] = await users(t, 1);
    for (const [method, url] of ADMIN_ROUTES) {
      assert.equal((await call(t, null, method, url(plain.id))).statusCode, 401, `${method} ${url(plain.id)} anonymous`);
      const res = await call(t, plain, method, url(plain.id));
      assert.equal(res.statusCode, 403, `${method} ${url(plain.id)} as a user: ${res.body}`);
      assert.equal(res.json().code, 'permission_denied');
    }
    // Before validation: a non-staff caller learns nothing about the input.
    assert.equal((await call(t, plain, 'GET', '/api/admin/users/?page=0')).statusCode, 403);
    assert.equal((await call(t, plain, 'POST', '/api/admin/users/abc/deactivate/')).statusCode, 403);
    assert.equal((await call(t, staff, 'GET', '/api/admin/users/?page=0')).statusCode, 400);
    assert.equal((await call(t, staff, 'POST', '/api/admin/users/abc/deactivate/')).statusCode, 400);
    // The user object says who is staff.
    assert.equal((await ok(call(t, plain, 'GET', `/api/users/${staff.id}/`))).is_staff, true);
    assert.equal((await ok(call(t, staff, 'GET', `/api/users/${plain.id}/`))).is_staff, false);
  });

  it('createsuperuser creates a staff account that logs in and uses the routes, and promotes an existing one', async () => {
    const username = uniq('boss');
    const email = `${username}@example.com`;
    const created = await runCli(t, ['createsuperuser', '--username', username, '--email', email], { ADMIN_PASSWORD: STAFF_PASSWORD });
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /Created staff account/);
    assert.ok(!created.stdout.includes(STAFF_PASSWORD) && !created.stderr.includes(STAFF_PASSWORD), 'the password is never printed');
    const boss = { username, email, ...(await login(t.app, email, STAFF_PASSWORD)) } as TestUser;
    const me = await ok(call(t, boss, 'GET', `/api/admin/users/?search=${username}`));
    assert.equal(me.count, 1);
    assert.deepEqual([me.results[0].username, me.results[0].is_staff, me.results[0].is_active], [username, true, true]);
    boss.id = me.results[0].id;
    await stats(boss);

    // The same command on an existing account (matched by username or email): staff at once, the
    // password untouched and not asked for (stdin is no terminal and there is no ADMIN_PASSWORD).
    const [plain] = await users(t, 1);
    assert.equal((await call(t, plain, 'GET', '/api/admin/stats/')).statusCode, 403);
    const promoted = await runCli(t, ['createsuperuser', '--username', plain.username, '--email', `${uniq('other')}@example.com`]);
    assert.equal(promoted.code, 0, promoted.stderr);
    assert.match(promoted.stdout, /staff; the password is unchanged/);
    await stats(plain);
    await login(t.app, plain.email, PASSWORD);
    const again = await runCli(t, ['createsuperuser', '--username', uniq('nobody'), '--email', plain.email]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already staff; nothing changed/);

    // A username of one account and the email of another: refused.
    const [a, b] = await users(t, 2);
    const mixed = await runCli(t, ['createsuperuser', '--username', a.username, '--email', b.email]);
    assert.equal(mixed.code, 1);
    assert.match(mixed.stderr, /two different accounts/);
    assert.equal((await call(t, a, 'GET', '/api/admin/stats/')).statusCode, 403);
  });

  it('createsuperuser refuses a new account without a password (no terminal), a weak password, and bad arguments', async () => {
    const username = uniq('nopass');
    const noPassword = await runCli(t, ['createsuperuser', '--username', username, '--email', `${username}@example.com`]);
    assert.equal(noPassword.code, 1);
    assert.match(noPassword.stderr, /ADMIN_PASSWORD/);
    const weak = await runCli(t, ['createsuperuser', '--username', username, '--email', `${username}@example.com`], { ADMIN_PASSWORD: '12345678' });
    assert.equal(weak.code, 1);
    assert.match(weak.stderr, /entirely numeric/);
    assert.ok(!weak.stderr.includes('12345678'));
    assert.equal((await adminList(`search=${username}`)).count, 0, 'nothing was created');
    const badArgs = await runCli(t, ['createsuperuser', '--username', username]);
    assert.equal(badArgs.code, 2);
    assert.match(badArgs.stderr, /needs --email/);
    const badName = await runCli(t, ['createsuperuser', '--username', 'no spaces allowed', '--email', 'not-an-email'], { ADMIN_PASSWORD: STAFF_PASSWORD });
    assert.equal(badName.code, 1);
    assert.match(badName.stderr, /Username:[^]*Email:/);
  });

  it('lists every account 20 a page with search, inactive ones included, deleted ones not', async () => {
    const tag = uniq('roster');
    const roster: TestUser[] = [];
    for (let i = 0; i < 21; i++) roster.push(await signup(t.app, { username: `${tag}_${i}`, email: `${tag}.${i}@example.com`, first_name: i === 7 ? `Ada${tag}` : '' }));
    await ok(deactivate(roster[3].id));
    const gone = await signup(t.app, { username: `${tag}_gone`, email: `${tag}.gone@example.com` });
    assert.equal((await call(t, gone, 'DELETE', `/api/users/${gone.id}/`)).statusCode, 204);

    const first = await adminList(`search=${tag}`);
    assert.equal(first.count, 21, 'the deactivated account is there, the deleted one is not');
    assert.equal(first.results.length, 20);
    assert.equal(first.previous, null);
    assert.ok(first.next);
    assert.deepEqual(first.results.map((u: any) => u.id), roster.slice(0, 20).map((u) => u.id), 'oldest first');
    const item = first.results[3];
    assert.deepEqual(Object.keys(item).sort(), ['bio', 'date_joined', 'email', 'first_name', 'id', 'is_active', 'is_staff', 'last_name', 'last_seen', 'profile_picture', 'status', 'username']);
    assert.deepEqual([item.is_active, item.is_staff, item.email], [false, false, roster[3].email]);
    const second = await ok(call(t, staff, 'GET', pathOf(first.next)));
    assert.deepEqual(second.results.map((u: any) => u.id), [roster[20].id]);
    assert.ok(second.previous && second.next === null);
    // Everyone else's list leaves the deactivated account out.
    assert.equal((await ok(call(t, roster[0], 'GET', `/api/users/?search=${tag}`))).count, 20);
    // Search by email and by name; LIKE wildcards are literal.
    assert.deepEqual((await adminList(`search=${tag}.5@EXAMPLE`)).results.map((u: any) => u.id), [roster[5].id]);
    assert.deepEqual((await adminList(`search=ada${tag}`)).results.map((u: any) => u.id), [roster[7].id]);
    assert.equal((await adminList(`search=${tag}%25`)).count, 0);
    assert.equal((await adminList(`search=${encodeURIComponent(`deleted user ${gone.id}`)}`)).count, 0);
    assert.equal((await deactivate(gone.id)).statusCode, 404, 'a deleted account is no account');
    assert.equal((await reactivate(gone.id)).statusCode, 404);
  });

  it('deactivation closes the sockets at once and refuses the tokens and log-in; reactivation lets the user back', async () => {
    const [victim] = await users(t, 1);
    const general = await sock(victim);
    const status = await sock(victim, STATUS);
    const item = await ok(deactivate(victim.id));
    assert.deepEqual([item.id, item.is_active], [victim.id, false]);
    assert.equal((await general.closed).code, 4401);
    assert.equal((await status.closed).code, 4401);
    assert.equal((await call(t, victim, 'GET', '/api/users/')).statusCode, 401, 'the access token');
    const refreshed = await t.app.inject({ method: 'POST', url: '/api/auth/token/refresh/', payload: { refresh: victim.refresh } });
    assert.equal(refreshed.statusCode, 401, 'the refresh token');
    const refused = await t.app.inject({ method: 'POST', url: '/api/auth/token/', payload: { email: victim.email, password: PASSWORD } });
    const wrong = await t.app.inject({ method: 'POST', url: '/api/auth/token/', payload: { email: victim.email, password: 'not-the-password-1' } });
    assert.equal(refused.statusCode, 400);
    assert.equal(refused.json().detail, wrong.json().detail, 'the same answer as wrong credentials');
    assert.equal((await call(t, staff, 'GET', `/api/users/${victim.id}/`)).statusCode, 404);
    assert.equal((await ok(deactivate(victim.id))).is_active, false, 'again: no change');

    const back = await ok(reactivate(victim.id));
    assert.deepEqual([back.id, back.is_active], [victim.id, true]);
    const fresh = await login(t.app, victim.email);
    assert.equal((await call(t, { ...victim, ...fresh }, 'GET', '/api/users/')).statusCode, 200);
    assert.equal((await call(t, victim, 'GET', '/api/users/')).statusCode, 401, 'the old sessions stay revoked');

    assert.equal((await deactivate(staff.id)).statusCode, 400, 'yourself');
    assert.equal((await deactivate(2_000_000_000)).statusCode, 404);
    assert.equal((await reactivate(2_000_000_000)).statusCode, 404);
  });

  it('a demoted or deactivated member of staff loses access at once', async () => {
    const [other] = await users(t, 1);
    await usersRepository.makeStaff(t.ctx.db, other.id);
    await stats(other);
    await usersRepository.update(t.ctx.db, other.id, { is_staff: 0 });
    assert.equal((await call(t, other, 'GET', '/api/admin/stats/')).statusCode, 403, 'demoted');
    await usersRepository.makeStaff(t.ctx.db, other.id);
    await ok(deactivate(other.id), 200);
    assert.equal((await call(t, other, 'GET', '/api/admin/stats/')).statusCode, 401, 'deactivated by another member of staff');
  });

  it('deletes any message: it shows deleted_by and the members get message_deleted', async () => {
    const [owner, member] = await users(t, 2);
    const room = await group(t, owner, [member], false);
    const msg = await send(t, member, room.id, 'against the rules');
    const watcher = await sock(owner);
    assert.equal((await call(t, staff, 'DELETE', `/api/admin/messages/${msg.id}/`)).statusCode, 204);
    const event = await watcher.next((e) => e.type === 'message_deleted' && e.message.id === msg.id);
    assert.deepEqual([event.message.is_deleted, event.message.deleted_by, event.message.content], [true, staff.id, '']);
    const seen = await ok(call(t, owner, 'GET', `/api/messages/${msg.id}/`));
    assert.deepEqual([seen.is_deleted, seen.deleted_by, seen.content], [true, staff.id, '']);
    assert.equal((await call(t, staff, 'DELETE', `/api/admin/messages/${msg.id}/`)).statusCode, 204, 'again: a no-op');

    // A private conversation the staff member is no part of.
    const pm = await privateRoom(t, owner, member);
    const secret = await send(t, owner, pm.id, 'private');
    assert.equal((await call(t, staff, 'DELETE', `/api/admin/messages/${secret.id}/`)).statusCode, 204);
    assert.equal((await ok(call(t, member, 'GET', `/api/messages/${secret.id}/`))).deleted_by, staff.id);
    assert.equal((await call(t, staff, 'DELETE', '/api/admin/messages/2000000000/')).statusCode, 404);
  });

  it('counts active users, rooms, messages not deleted, and users online', async () => {
    // On an app of its own: sockets other tests closed may still be going offline on this one.
    const own = await chatApp();
    const sockets: Sock[] = [];
    try {
      const ownBase = await listen(own);
      const [boss, a, b] = await users(own, 3);
      await usersRepository.makeStaff(own.ctx.db, boss.id);
      const count = () => ok(call(own, boss, 'GET', '/api/admin/stats/'));
      assert.deepEqual(await count(), { users: 3, rooms: 0, messages: 0, online: 0 });
      const room = await group(own, a, [b]);
      await send(own, a, room.id, 'one');
      const two = await send(own, b, room.id, 'two');
      await ok(call(own, b, 'DELETE', `/api/messages/${two.id}/`), 204);
      const watching = await connect(ownBase, STATUS, { token: a.access });
      sockets.push(watching, await connect(ownBase, STATUS, { token: b.access }));
      sockets.push(await connect(ownBase, GENERAL, { token: boss.access })); // not a presence socket
      assert.deepEqual(await count(), { users: 3, rooms: 1, messages: 1, online: 2 });

      // b deactivated: one user fewer, and offline once its socket has closed (a hears it).
      await ok(call(own, boss, 'POST', `/api/admin/users/${b.id}/deactivate/`));
      await watching.next((e) => e.type === 'presence' && e.user === b.id && e.status === 'offline');
      assert.deepEqual(await count(), { users: 2, rooms: 1, messages: 1, online: 1 });
    } finally {
      await Promise.all(sockets.map((x) => x.close()));
      await own.close();
    }
  });
});
