// Invite codes to a group: made, listed and revoked by its owner and admins; previewed by anyone
// logged in; accepted to join (counted once, never beyond max_uses, not by a banned user).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, chatApp, group, membershipOf, ok, privateRoom, send, socketOf, users } from './chat-helpers.js';
import type { TestApp, TestUser } from './helpers.js';

describe('group invites', () => {
  let t: TestApp;
  before(async () => {
    t = await chatApp();
  });
  after(() => t.close());

  const create = (u: TestUser | null, room: number, body: Record<string, unknown> = {}) => call(t, u, 'POST', `/api/chat_rooms/${room}/invites/`, body);
  const invite = (u: TestUser, room: number, body: Record<string, unknown> = {}) => ok(create(u, room, body), 201);
  const list = (u: TestUser, room: number) => call(t, u, 'GET', `/api/chat_rooms/${room}/invites/`);
  const revoke = (u: TestUser, room: number, code: string) => call(t, u, 'DELETE', `/api/chat_rooms/${room}/invites/${code}/`);
  const preview = (u: TestUser | null, code: string) => call(t, u, 'GET', `/api/invites/${code}/`);
  const accept = (u: TestUser | null, code: string) => call(t, u, 'POST', `/api/invites/${code}/accept/`);
  const setRole = (owner: TestUser, room: number, user: TestUser, role: string) => ok(call(t, owner, 'PATCH', `/api/chat_rooms/${room}/members/${user.id}/`, { role }));
  const usesOf = async (code: string) => (await t.ctx.db.selectFrom('room_invites').select('uses').where('code', '=', code).executeTakeFirstOrThrow()).uses;
  const memberIds = async (room: number) =>
    (await t.ctx.db.selectFrom('memberships').select('user_id').where('chat_room_id', '=', room).where('is_active', '=', 1).execute()).map((m) => m.user_id).sort((a, b) => a - b);

  it('lets the owner and admins create, list and revoke; a member 403, an outsider 404', async () => {
    const [owner, admin, member, outsider] = await users(t, 4);
    const room = await group(t, owner, [admin, member], false);
    await setRole(owner, room.id, admin, 'admin');

    const first = await invite(owner, room.id, { max_uses: 5, expires_in: 3600 });
    assert.match(first.code, /^[A-Za-z0-9_-]{16}$/);
    assert.deepEqual({ ...first, code: 'c', created_at: 'x', expires_at: 'y' }, {
      code: 'c',
      chat_room: room.id,
      created_by: owner.id,
      created_at: 'x',
      expires_at: 'y',
      max_uses: 5,
      uses: 0,
    });
    const expiresIn = Date.parse(first.expires_at) - Date.parse(first.created_at);
    assert.equal(expiresIn, 3600_000);
    const second = await invite(admin, room.id);
    assert.deepEqual([second.max_uses, second.expires_at, second.created_by], [null, null, admin.id], 'unlimited, never expires');
    assert.notEqual(second.code, first.code);

    const listed = await ok(list(admin, room.id));
    assert.equal(listed.count, 2);
    assert.deepEqual(listed.results.map((i: any) => i.code), [second.code, first.code], 'newest first');
    assert.deepEqual(listed.results[1], first);

    // A member: 403. An outsider of a non-public group: 404, as for anything of a room they cannot see.
    for (const [who, status] of [[member, 403], [outsider, 404]] as const) {
      assert.equal((await create(who, room.id)).statusCode, status, `create by ${who === member ? 'member' : 'outsider'}`);
      assert.equal((await list(who, room.id)).statusCode, status);
      assert.equal((await revoke(who, room.id, first.code)).statusCode, status);
    }
    assert.equal((await create(null, room.id)).statusCode, 401);

    // A public group one has not joined: 403; a private room: 400.
    const open = await group(t, owner, [member]);
    assert.equal((await create(outsider, open.id)).statusCode, 403);
    assert.equal((await create(member, open.id)).statusCode, 403);
    await invite(owner, open.id);
    const privy = await privateRoom(t, owner, member);
    assert.equal((await create(owner, privy.id)).statusCode, 400);
    assert.equal((await list(owner, privy.id)).statusCode, 400);

    // Revoked: gone from the list, and 404 everywhere (a code of another room too).
    assert.equal((await revoke(owner, open.id, first.code)).statusCode, 404, "another room's code");
    assert.equal((await revoke(admin, room.id, first.code)).statusCode, 204);
    assert.equal((await revoke(admin, room.id, first.code)).statusCode, 404, 'already revoked');
    assert.deepEqual((await ok(list(owner, room.id))).results.map((i: any) => i.code), [second.code]);
    assert.equal((await preview(outsider, first.code)).statusCode, 404);
    assert.equal((await accept(outsider, first.code)).statusCode, 404);
    assert.deepEqual(await memberIds(room.id), [owner.id, admin.id, member.id].sort((a, b) => a - b));
    // Without the trailing slash too.
    assert.equal((await call(t, owner, 'DELETE', `/api/chat_rooms/${room.id}/invites/${second.code}`)).statusCode, 204);
    assert.equal((await call(t, owner, 'GET', `/api/chat_rooms/${room.id}/invites`)).json().count, 0);
  });

  it('refuses max_uses and expires_in out of bounds with field errors', async () => {
    const [owner] = await users(t, 1);
    const room = await group(t, owner, [], false);
    const bad: Array<[string, unknown]> = [
      ['max_uses', 0],
      ['max_uses', -1],
      ['max_uses', 10_001],
      ['max_uses', 1e12],
      ['max_uses', 1.5],
      ['max_uses', 'ten'],
      ['max_uses', false],
      ['max_uses', [3]],
      ['expires_in', 0],
      ['expires_in', -60],
      ['expires_in', 59],
      ['expires_in', 365 * 86400 + 1],
      ['expires_in', 1e20],
    ];
    for (const [field, value] of bad) {
      const res = await create(owner, room.id, { [field]: value });
      assert.equal(res.statusCode, 400, `${field}=${value}: ${res.body}`);
      assert.ok(Array.isArray(res.json()[field]), `${field}=${value}: ${res.body}`);
    }
    for (const body of [{ max_uses: 1, expires_in: 60 }, { max_uses: 10_000, expires_in: 365 * 86400 }, { max_uses: null, expires_in: null }]) {
      await invite(owner, room.id, body);
    }
    assert.equal((await ok(list(owner, room.id))).count, 3);
  });

  it('shows any logged-in user which group a code opens; 401 without a token', async () => {
    const [owner, member, stranger] = await users(t, 3);
    const room = await group(t, owner, [member], false);
    const { code, expires_at } = await invite(owner, room.id, { expires_in: 600 });
    const seen = await ok(preview(stranger, code));
    assert.deepEqual(seen, { chat_room: { id: room.id, name: 'g', member_count: 2 }, expires_at });
    assert.deepEqual(await ok(call(t, stranger, 'GET', `/api/invites/${code}`)), seen, 'without the trailing slash');
    assert.equal((await preview(null, code)).statusCode, 401);
    assert.equal((await accept(null, code)).statusCode, 401);
  });

  it('joins a non-public group: the membership as /api/user_chats/ shows it, member_joined, history and sending', async () => {
    const [owner, member, joiner] = await users(t, 3);
    const room = await group(t, owner, [member], false);
    await send(t, owner, room.id, 'before the joiner');
    const { code } = await invite(owner, room.id, { max_uses: 10 });
    assert.equal((await call(t, joiner, 'GET', `/api/messages/?chat_room=${room.id}`)).statusCode, 404, 'not visible before');
    const watcher = await socketOf(t, member);

    const joined = await ok(accept(joiner, code));
    assert.deepEqual(joined, await membershipOf(t, joiner, room.id));
    assert.deepEqual([joined.user, joined.chat_room, joined.role, joined.unread_count], [joiner.id, room.id, 'member', 0]);
    const event = await watcher.next((e) => e.type === 'member_joined' && e.chat_room === room.id);
    assert.deepEqual([event.user, event.username, event.by], [joiner.id, joiner.username, joiner.id]);
    await watcher.close();

    const history = await ok(call(t, joiner, 'GET', `/api/messages/?chat_room=${room.id}`));
    assert.deepEqual(history.results.map((m: any) => m.content), ['before the joiner']);
    await send(t, joiner, room.id, 'hello from the joiner');
    assert.equal(await usesOf(code), 1);

    // Already a member: 200 with the membership, no use counted (also through the path without a slash).
    assert.equal((await ok(accept(joiner, code))).id, joined.id);
    assert.equal((await ok(call(t, owner, 'POST', `/api/invites/${code}/accept`))).user, owner.id);
    assert.equal(await usesOf(code), 1);
    assert.equal((await ok(preview(joiner, code))).chat_room.member_count, 3);
    // A hidden conversation is shown again, as when joining.
    await ok(call(t, joiner, 'DELETE', `/api/user_chats/${joined.id}/`), 204);
    assert.equal((await ok(accept(joiner, code))).is_active, true);
    assert.equal((await membershipOf(t, joiner, room.id))?.id, joined.id);
    assert.equal(await usesOf(code), 1);

    // Leaving and coming back with the same invite reactivates the membership and counts a use.
    await ok(call(t, joiner, 'POST', `/api/chat_rooms/${room.id}/leave/`), 204);
    assert.equal((await ok(accept(joiner, code))).id, joined.id);
    assert.equal(await usesOf(code), 2);
  });

  it('never lets more people in than max_uses, even all at once', async () => {
    const [owner, ...joiners] = await users(t, 6);
    const room = await group(t, owner, [], false);
    const { code } = await invite(owner, room.id, { max_uses: 2 });
    const answers = await Promise.all(joiners.map((j) => accept(j, code)));
    assert.deepEqual(answers.map((r) => r.statusCode).sort(), [200, 200, 404, 404, 404], answers.map((r) => r.body).join('\n'));
    assert.equal(await usesOf(code), 2);
    const admitted = joiners.filter((_, i) => answers[i].statusCode === 200).map((j) => j.id);
    assert.deepEqual(await memberIds(room.id), [owner.id, ...admitted].sort((a, b) => a - b));
    // Used up: 404 for preview, another accept and revoke, and gone from the list.
    assert.equal((await preview(joiners[0], code)).statusCode, 404);
    assert.equal((await revoke(owner, room.id, code)).statusCode, 404);
    assert.equal((await ok(list(owner, room.id))).count, 0);
  });

  it('never lets more people in than max_uses with accepts in separate transactions at once', async () => {
    // One transaction per change, several at once (PostgreSQL; SQLite has one writer): only the room's lock orders them.
    const lanes = await chatApp({ WRITE_CONCURRENCY: '5', WRITE_BATCH_MAX: '1' });
    try {
      const [owner, ...joiners] = await users(lanes, 6);
      const room = await group(lanes, owner, [], false);
      const { code } = await ok(call(lanes, owner, 'POST', `/api/chat_rooms/${room.id}/invites/`, { max_uses: 2 }), 201);
      const answers = await Promise.all(joiners.map((j) => call(lanes, j, 'POST', `/api/invites/${code}/accept/`)));
      assert.deepEqual(answers.map((r) => r.statusCode).sort(), [200, 200, 404, 404, 404], answers.map((r) => r.body).join('\n'));
      const row = await lanes.ctx.db.selectFrom('room_invites').select('uses').where('code', '=', code).executeTakeFirstOrThrow();
      assert.equal(row.uses, 2);
    } finally {
      await lanes.close();
    }
  });

  it('an expired invite is 404 and no longer listed', async () => {
    const [owner, joiner] = await users(t, 2);
    const room = await group(t, owner, [], false);
    const { code } = await invite(owner, room.id, { expires_in: 60 });
    assert.equal((await ok(preview(joiner, code))).chat_room.id, room.id);
    // Expire it in the database (waiting the minimum minute would only slow the test).
    await t.ctx.db.updateTable('room_invites').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('code', '=', code).execute();
    assert.equal((await preview(joiner, code)).statusCode, 404);
    assert.equal((await accept(joiner, code)).statusCode, 404);
    assert.equal((await revoke(owner, room.id, code)).statusCode, 404);
    assert.equal((await ok(list(owner, room.id))).count, 0);
    assert.deepEqual(await memberIds(room.id), [owner.id]);
  });

  it('refuses a banned user (403), without counting a use', async () => {
    const [owner, banned] = await users(t, 2);
    const room = await group(t, owner, [], false);
    const { code } = await invite(owner, room.id);
    await ok(call(t, owner, 'POST', `/api/chat_rooms/${room.id}/bans/`, { user: banned.id, reason: 'spam' }), 201);
    assert.equal((await ok(preview(banned, code))).chat_room.id, room.id, 'the preview is for anyone');
    assert.equal((await accept(banned, code)).statusCode, 403);
    assert.equal(await usesOf(code), 0);
    assert.deepEqual(await memberIds(room.id), [owner.id]);
  });

  it('answers a malformed code 400 and an unknown one 404, never a 5xx', async () => {
    const [owner, user] = await users(t, 2);
    const room = await group(t, owner, [], false);
    const malformed = ['abc', '0', 'A'.repeat(15), 'A'.repeat(17), 'AAAAAAAAAAAAAAA.', 'AAAAAAAAAAAAAAA%20', '%zz', 'x'.repeat(400), "AAAAAAAAAAAA'--;"];
    for (const code of malformed) {
      for (const res of [await preview(user, code), await accept(user, code), await revoke(owner, room.id, code)]) {
        assert.ok(res.statusCode === 400 || res.statusCode === 404 || res.statusCode === 414, `${code}: ${res.statusCode} ${res.body}`);
      }
    }
    assert.equal((await preview(user, 'AAAAAAAAAAAAAAAA')).statusCode, 404);
    assert.equal((await accept(user, 'AAAAAAAAAAAAAAA_')).statusCode, 404);
    assert.equal((await revoke(owner, room.id, 'AAAAAAAAAAAAAA-A')).statusCode, 404);
    const refused = await preview(user, 'abc');
    assert.equal(refused.statusCode, 400);
    assert.ok(Array.isArray(refused.json().invite_code), refused.body);
  });

  it("vanishes with its room", async () => {
    const [owner, joiner] = await users(t, 2);
    const room = await group(t, owner, [], false);
    const { code } = await invite(owner, room.id);
    await ok(call(t, owner, 'DELETE', `/api/chat_rooms/${room.id}/`), 204);
    assert.equal((await preview(joiner, code)).statusCode, 404);
    assert.equal((await accept(joiner, code)).statusCode, 404);
    assert.equal(await t.ctx.db.selectFrom('room_invites').select('id').where('code', '=', code).executeTakeFirst(), undefined);
  });
});
