// Moderation of a group: bans (with reasons, kept out by every way in, lifted again) and owners
// and admins deleting anyone's message there (`deleted_by`), with their live effects on sockets.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, chatApp, group, ok, privateRoom, send, socketOf, users } from './chat-helpers.js';
import type { TestApp, TestUser } from './helpers.js';

describe('bans', () => {
  let t: TestApp;
  before(async () => {
    t = await chatApp();
  });
  after(() => t.close());

  const ban = (u: TestUser, room: number, user: number, reason?: string) => call(t, u, 'POST', `/api/chat_rooms/${room}/bans/`, { user, ...(reason !== undefined ? { reason } : {}) });
  const unban = (u: TestUser, room: number, user: number) => call(t, u, 'DELETE', `/api/chat_rooms/${room}/bans/${user}/`);
  const bans = (u: TestUser, room: number) => call(t, u, 'GET', `/api/chat_rooms/${room}/bans/`);
  const makeAdmin = (owner: TestUser, room: number, user: TestUser) => ok(call(t, owner, 'PATCH', `/api/chat_rooms/${room}/members/${user.id}/`, { role: 'admin' }));

  it('refuses bans above your role, of yourself, of the owner, and in private rooms', async () => {
    const [owner, admin, admin2, member, outsider] = await users(t, 5);
    const room = await group(t, owner, [admin, admin2, member], false);
    await makeAdmin(owner, room.id, admin);
    await makeAdmin(owner, room.id, admin2);
    assert.equal((await ban(member, room.id, admin.id)).statusCode, 403, 'a member');
    assert.equal((await bans(member, room.id)).statusCode, 403, 'a member sees no ban list');
    assert.equal((await ban(outsider, room.id, member.id)).statusCode, 404, 'the room does not exist for an outsider');
    assert.equal((await ban(admin, room.id, admin2.id)).statusCode, 403, 'an admin cannot ban an admin');
    assert.equal((await ban(admin, room.id, owner.id)).statusCode, 400, 'nobody bans the owner');
    assert.equal((await ban(admin, room.id, admin.id)).statusCode, 400, 'nor themselves');
    assert.deepEqual(JSON.parse((await ban(owner, room.id, 2_000_000_000)).body), { user: ['Invalid pk "2000000000" - object does not exist.'] });
    assert.equal((await ban(owner, room.id, member.id, 'x'.repeat(501))).statusCode, 400, 'a reason over 500 characters');
    assert.equal((await unban(owner, room.id, member.id)).statusCode, 404, 'not banned');
    const privy = await privateRoom(t, owner, member);
    assert.equal((await ban(owner, privy.id, member.id)).statusCode, 400, 'private rooms have no bans');
    // Nothing was half-applied: everyone is still in, with their roles.
    const roles = (await ok(call(t, owner, 'GET', `/api/chat_rooms/${room.id}/members/`))).results.map((m: any) => m.role).sort();
    assert.deepEqual(roles, ['admin', 'admin', 'member', 'owner']);
    assert.equal((await ok(bans(owner, room.id))).count, 0);
  });

  it('removes a banned member at once and keeps them out by every way in until the ban is lifted', async () => {
    const [owner, admin, victim, friend] = await users(t, 4);
    const room = await group(t, owner, [admin, victim, friend]);
    await makeAdmin(owner, room.id, admin);
    const victimSock = await socketOf(t, victim);
    const friendSock = await socketOf(t, friend);
    const created = await ok(ban(admin, room.id, victim.id, 'spam links'), 201);
    assert.deepEqual({ ...created, created_at: 'x' }, { user: victim.id, username: victim.username, reason: 'spam links', banned_by: admin.id, banned_by_username: admin.username, created_at: 'x' });

    const left = await victimSock.next((e) => e.type === 'member_left' && e.chat_room === room.id);
    assert.deepEqual([left.user, left.by, left.kicked, left.banned], [victim.id, admin.id, true, true]);
    const banned = await friendSock.next((e) => e.type === 'member_banned');
    assert.deepEqual([banned.user, banned.by, banned.reason, banned.chat_room], [victim.id, admin.id, 'spam links', room.id]);
    assert.ok(banned.seq > left.seq, 'the ban follows the removal in the room');
    const note = (await ok(call(t, victim, 'GET', '/api/notifications/'))).results.find((n: any) => n.type === 'ban');
    assert.equal(note.body, `${admin.username} banned you from "${room.name}": spam links`);

    // No join (a public group), no re-add, no seed-0 send that joins first: 403 each.
    const join = await call(t, victim, 'POST', `/api/chat_rooms/${room.id}/join/`);
    assert.deepEqual([join.statusCode, join.json().detail], [403, 'You are banned from this group.']);
    const added = await call(t, friend, 'POST', '/api/user_chats/', { chat_room: room.id, user: victim.id });
    assert.deepEqual([added.statusCode, added.json().detail], [403, 'This user is banned from this group.']);
    assert.equal((await call(t, victim, 'POST', '/api/user_chats/', { chat_room: room.id })).statusCode, 403);
    assert.equal((await call(t, victim, 'POST', '/message/', { chatid: room.id, message: 'let me in' })).statusCode, 403);
    assert.equal((await call(t, victim, 'GET', `/api/messages/?chat_room=${room.id}`)).statusCode, 403, 'no history');

    const list = await ok(bans(admin, room.id));
    assert.deepEqual(list.results.map((b: any) => [b.user, b.reason]), [[victim.id, 'spam links']]);

    assert.equal((await unban(owner, room.id, victim.id)).statusCode, 204);
    const lifted = await friendSock.next((e) => e.type === 'member_unbanned');
    assert.deepEqual([lifted.user, lifted.by], [victim.id, owner.id]);
    assert.equal((await ok(bans(owner, room.id))).count, 0);
    await ok(call(t, victim, 'POST', `/api/chat_rooms/${room.id}/join/`));
    await victimSock.next((e) => e.type === 'member_joined' && e.user === victim.id);
    const back = await send(t, victim, room.id, 'sorry');
    await friendSock.next((e) => e.type === 'new_message' && e.message.id === back.id);
    await Promise.all([victimSock.close(), friendSock.close()]);
  });

  it('bans someone who is not a member yet, so they cannot join', async () => {
    const [owner, stranger] = await users(t, 2);
    const room = await group(t, owner);
    await ok(ban(owner, room.id, stranger.id), 201);
    assert.equal((await call(t, stranger, 'POST', `/api/chat_rooms/${room.id}/join/`)).statusCode, 403);
    const note = (await ok(call(t, stranger, 'GET', '/api/notifications/'))).results.find((n: any) => n.type === 'ban');
    assert.equal(note.body, `${owner.username} banned you from "${room.name}"`);
  });

  it('two admins banning one member at once: both answer 201, one member_left, one ban', async () => {
    const [owner, a1, a2, victim] = await users(t, 4);
    const room = await group(t, owner, [a1, a2, victim], false);
    await makeAdmin(owner, room.id, a1);
    await makeAdmin(owner, room.id, a2);
    const answers = await Promise.all([ban(a1, room.id, victim.id, 'one'), ban(a2, room.id, victim.id, 'two')]);
    assert.deepEqual(answers.map((r) => r.statusCode), [201, 201]);
    const left = await t.ctx.db.selectFrom('events').select('id').where('chat_room_id', '=', room.id).where('type', '=', 'member_left').execute();
    assert.equal(left.length, 1);
    const list = await ok(bans(owner, room.id));
    assert.equal(list.count, 1);
    assert.ok(['one', 'two'].includes(list.results[0].reason));
  });
});

describe('moderators deleting messages', () => {
  let t: TestApp;
  before(async () => {
    t = await chatApp();
  });
  after(() => t.close());

  it('lets the owner and admins of a group delete anyone message there, shown as deleted_by', async () => {
    const [owner, admin, member, other] = await users(t, 4);
    const room = await group(t, owner, [admin, member, other], false);
    await ok(call(t, owner, 'PATCH', `/api/chat_rooms/${room.id}/members/${admin.id}/`, { role: 'admin' }));
    const spam = await send(t, member, room.id, 'buy now');
    const mine = await send(t, member, room.id, 'my own');
    const watcher = await socketOf(t, other);
    assert.equal((await call(t, other, 'DELETE', `/api/messages/${spam.id}/`)).statusCode, 403, 'a member cannot');
    assert.equal((await call(t, admin, 'DELETE', `/api/messages/${spam.id}/`)).statusCode, 204);
    const deleted = await watcher.next((e) => e.type === 'message_deleted' && e.message.id === spam.id);
    assert.deepEqual([deleted.message.deleted_by, deleted.message.content, deleted.message.is_deleted], [admin.id, '', true]);
    const seen = await ok(call(t, other, 'GET', `/api/messages/${spam.id}/`));
    assert.equal(seen.deleted_by, admin.id);
    const told = (await ok(call(t, member, 'GET', '/api/notifications/'))).results.filter((n: any) => n.type === 'deleted');
    assert.deepEqual(told.map((n: any) => n.body), [`${admin.username} deleted your message in "${room.name}"`]);
    await ok(call(t, member, 'DELETE', `/api/messages/${mine.id}/`), 204);
    assert.equal((await ok(call(t, owner, 'GET', `/api/messages/${mine.id}/`))).deleted_by, null, "the sender's own deletion");
    assert.equal((await ok(call(t, member, 'GET', '/api/notifications/'))).results.filter((n: any) => n.type === 'deleted').length, 1, 'nobody is told of their own deletion');
    // An admin cannot edit others' messages; deleting is all moderation allows.
    const kept = await send(t, member, room.id, 'kept');
    assert.equal((await call(t, admin, 'PATCH', `/api/messages/${kept.id}/`, { content: 'changed' })).statusCode, 403);
    await watcher.close();
  });

  it('gives no one moderation of a private conversation', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    const msg = await send(t, b, room.id, 'hello');
    assert.equal((await call(t, a, 'DELETE', `/api/messages/${msg.id}/`)).statusCode, 403, 'the private room creator is no moderator');
  });
});
