// A group's members: the paginated list with roles, role changes (the owner only; ownership
// handed over), and removal by the owner or an admin, with its live effects on sockets.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, chatApp, group, ok, privateRoom, send, socketOf, users } from './chat-helpers.js';
import type { TestApp, TestUser } from './helpers.js';

describe('members, roles and removal', () => {
  let t: TestApp;
  before(async () => {
    t = await chatApp();
  });
  after(() => t.close());

  const members = (u: TestUser, room: number, page = 1) => ok(call(t, u, 'GET', `/api/chat_rooms/${room}/members/?page=${page}`));
  const role = (u: TestUser, room: number, target: number, r: string) => call(t, u, 'PATCH', `/api/chat_rooms/${room}/members/${target}/`, { role: r });
  const kick = (u: TestUser, room: number, target: number) => call(t, u, 'DELETE', `/api/chat_rooms/${room}/members/${target}/`);

  it('lists members 20 a page with their roles', async () => {
    const [owner, ...rest] = await users(t, 22);
    const room = await group(t, owner, rest);
    const first = await members(rest[3], room.id);
    assert.equal(first.count, 22);
    assert.equal(first.results.length, 20);
    assert.ok(first.next && first.previous === null);
    assert.deepEqual(first.results[0], { ...first.results[0], user: owner.id, role: 'owner' });
    const second = await members(owner, room.id, 2);
    assert.equal(second.results.length, 2);
    assert.ok(second.results.every((m: any) => m.role === 'member'));
    const outsider = (await users(t, 1))[0];
    assert.equal((await call(t, outsider, 'GET', `/api/chat_rooms/${room.id}/members/`)).statusCode, 403, 'a public group you have not joined');
  });

  it('lets only the owner change roles, and hands ownership over', async () => {
    const [owner, a, b, outsider] = await users(t, 4);
    const room = await group(t, owner, [a, b], false);
    const watcher = await socketOf(t, b);
    assert.equal((await role(a, room.id, b.id, 'admin')).statusCode, 403, 'a member');
    assert.deepEqual(await ok(role(owner, room.id, a.id, 'admin')), { user: a.id, role: 'admin' });
    assert.equal((await role(a, room.id, b.id, 'admin')).statusCode, 403, 'an admin');
    assert.equal((await role(owner, room.id, outsider.id, 'admin')).statusCode, 404, 'not in the room');
    assert.equal((await role(outsider, room.id, a.id, 'member')).statusCode, 404, 'the room does not exist for an outsider');
    assert.equal((await role(owner, room.id, owner.id, 'member')).statusCode, 400, 'the owner cannot just step down');
    assert.equal((await role(owner, room.id, a.id, 'superuser')).statusCode, 400);
    const changed = await watcher.next((e) => e.type === 'member_role_changed' && e.user === a.id);
    assert.deepEqual([changed.role, changed.by, changed.chat_room], ['admin', owner.id, room.id]);
    const note = (await ok(call(t, a, 'GET', '/api/notifications/'))).results.find((n: any) => n.type === 'role');
    assert.match(note.body, /made you an admin/);

    // Handing over: a becomes owner, the old owner an admin; exactly one owner.
    await ok(role(owner, room.id, a.id, 'owner'));
    const roles = Object.fromEntries((await members(b, room.id)).results.map((m: any) => [m.user, m.role]));
    assert.deepEqual(roles, { [owner.id]: 'admin', [a.id]: 'owner', [b.id]: 'member' });
    assert.equal((await role(owner, room.id, b.id, 'admin')).statusCode, 403, 'no longer the owner');
    await watcher.close();
    const privy = await privateRoom(t, owner, b);
    assert.equal((await role(owner, privy.id, b.id, 'admin')).statusCode, 400, 'private rooms have no roles');
  });

  it('lets the owner and admins remove members; the removed user stops receiving the room at once', async () => {
    const [owner, admin, victim, other] = await users(t, 4);
    const room = await group(t, owner, [admin, victim, other], false);
    await ok(role(owner, room.id, admin.id, 'admin'));
    assert.equal((await kick(other, room.id, victim.id)).statusCode, 403, 'a member cannot');
    assert.equal((await kick(admin, room.id, owner.id)).statusCode, 403, 'an admin cannot remove the owner');
    assert.equal((await kick(admin, room.id, admin.id)).statusCode, 400, 'yourself: leave instead');
    const victimSock = await socketOf(t, victim);
    assert.equal((await kick(admin, room.id, victim.id)).statusCode, 204);
    const left = await victimSock.next((e) => e.type === 'member_left' && e.user === victim.id);
    assert.deepEqual([left.by, left.kicked], [admin.id, true]);
    // After its member_left, nothing more of the room reaches the removed user's socket.
    const after = await send(t, owner, room.id, 'without the victim');
    const marker = await privateRoom(t, owner, victim);
    const markerMsg = await send(t, owner, marker.id, 'marker');
    await victimSock.next((e) => e.type === 'new_message' && e.message.id === markerMsg.id);
    assert.ok(!victimSock.events.some((e) => e.type === 'new_message' && e.message.id === after.id));
    await victimSock.close();
    assert.equal((await call(t, victim, 'GET', `/api/messages/?chat_room=${room.id}`)).statusCode, 404);
    assert.equal((await kick(admin, room.id, victim.id)).statusCode, 404, 'no longer a member');
    const note = (await ok(call(t, victim, 'GET', '/api/notifications/'))).results.find((n: any) => n.type === 'leave' && n.chat_room === room.id);
    assert.match(note.body, /removed you/);
    // An admin cannot remove another admin; the owner can.
    await ok(role(owner, room.id, other.id, 'admin'));
    assert.equal((await kick(admin, room.id, other.id)).statusCode, 403);
    assert.equal((await kick(owner, room.id, other.id)).statusCode, 204);
  });

  it('a removal racing a send: the message is stored only if it came first', async () => {
    for (let round = 0; round < 10; round++) {
      const [owner, member] = await users(t, 2);
      const room = await group(t, owner, [member], false);
      const [kicked, sent] = await Promise.all([kick(owner, room.id, member.id), call(t, member, 'POST', '/api/messages/', { chat_room: room.id, content: `race ${round}` })]);
      assert.equal(kicked.statusCode, 204);
      const events = await t.ctx.db.selectFrom('events').select(['type', 'seq']).where('chat_room_id', '=', room.id).orderBy('id').execute();
      const leftAt = events.find((e) => e.type === 'member_left')!.seq!;
      if (sent.statusCode === 201) assert.ok(events.find((e) => e.type === 'new_message')!.seq! < leftAt, `round ${round}`);
      else assert.equal(sent.statusCode, 404, sent.body);
    }
  });

  it('two removals of one member at once: one 204, one 404, one member_left', async () => {
    const [owner, admin, victim] = await users(t, 3);
    const room = await group(t, owner, [admin, victim], false);
    await ok(role(owner, room.id, admin.id, 'admin'));
    const answers = await Promise.all([kick(owner, room.id, victim.id), kick(admin, room.id, victim.id)]);
    assert.deepEqual(answers.map((r) => r.statusCode).sort(), [204, 404]);
    const left = await t.ctx.db.selectFrom('events').select('id').where('chat_room_id', '=', room.id).where('type', '=', 'member_left').execute();
    assert.equal(left.length, 1);
  });

  it('an owner who leaves never hands the group to a deactivated account', async () => {
    const [owner, gone, admin, member] = await users(t, 4);
    const room = await group(t, owner, [gone, admin, member], false);
    await ok(role(owner, room.id, gone.id, 'admin'));
    await ok(role(owner, room.id, admin.id, 'admin'));
    await t.ctx.db.updateTable('users').set({ is_active: 0 }).where('id', '=', gone.id).execute();
    await ok(call(t, owner, 'POST', `/api/chat_rooms/${room.id}/leave/`), 204);
    const roles = Object.fromEntries((await members(member, room.id)).results.map((m: any) => [m.user, m.role]));
    assert.equal(roles[admin.id], 'owner', 'the next admin who can log in');
  });

  it('an owner who leaves hands the group to an admin before longer-standing members', async () => {
    const [owner, early, admin] = await users(t, 3);
    const room = await group(t, owner, [early, admin], false);
    await ok(role(owner, room.id, admin.id, 'admin'));
    await ok(call(t, owner, 'POST', `/api/chat_rooms/${room.id}/leave/`), 204);
    const roles = Object.fromEntries((await members(early, room.id)).results.map((m: any) => [m.user, m.role]));
    assert.deepEqual(roles, { [early.id]: 'member', [admin.id]: 'owner' });
  });
});
