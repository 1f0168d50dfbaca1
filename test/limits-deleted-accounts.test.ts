// Deleted accounts (issue 15): deleting an account ends its memberships in the deletion's own
// transaction, as leaving does: member_left, ownership handed on (never to a deleted account),
// no more notifications, not counted in member_count.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestApp, TestUser } from './helpers.js';
import { call, chatApp, group, ok, privateRoom, send, users } from './chat-helpers.js';

describe('deleting an account ends its memberships', () => {
  let t: TestApp;
  before(async () => {
    t = await chatApp();
  });
  after(() => t.close());

  const remove = (u: TestUser) => call(t, u, 'DELETE', `/api/users/${u.id}/`);
  const members = async (viewer: TestUser, room: number) =>
    (await ok(call(t, viewer, 'GET', `/api/chat_rooms/${room}/members/`))).results.map((m: any) => [m.user, m.role]);
  const activeRooms = async (userId: number) =>
    (await t.ctx.db.selectFrom('memberships').select('chat_room_id').where('user_id', '=', userId).where('is_active', '=', 1).execute()).map((r) => r.chat_room_id);
  const eventTypes = async (room: number) =>
    (await t.ctx.db.selectFrom('events').select(['type', 'payload']).where('chat_room_id', '=', room).orderBy('id').execute()).map((e) => [e.type, JSON.parse(e.payload)]);

  it("hands a deleted owner's group to the longest-standing admin, as leaving does", async () => {
    const [owner, member, admin] = await users(t, 3);
    const room = await group(t, owner, [member, admin], false);
    await ok(call(t, owner, 'PATCH', `/api/chat_rooms/${room.id}/members/${admin.id}/`, { role: 'admin' }));
    assert.equal((await remove(owner)).statusCode, 204);
    assert.deepEqual(await members(member, room.id), [[member.id, 'member'], [admin.id, 'owner']]);
    assert.equal((await ok(call(t, member, 'GET', `/api/chat_rooms/${room.id}/`))).member_count, 2);
    const tail = (await eventTypes(room.id)).slice(-2);
    assert.deepEqual(tail.map(([type]) => type), ['member_left', 'member_role_changed']);
    assert.equal(tail[0][1].user, owner.id);
    assert.equal(tail[1][1].user, admin.id);
    // The group can be managed again: the new owner renames it and changes roles.
    await ok(call(t, admin, 'PATCH', `/api/chat_rooms/${room.id}/`, { is_public: true }));
    await ok(call(t, admin, 'PATCH', `/api/chat_rooms/${room.id}/members/${member.id}/`, { role: 'admin' }));
    assert.deepEqual(await activeRooms(owner.id), []);
  });

  it('never makes a deleted account the owner: it is no member to hand the group to', async () => {
    const [owner, early, late] = await users(t, 3);
    const room = await group(t, owner, [early, late]);
    assert.equal((await remove(early)).statusCode, 204);
    assert.equal((await call(t, owner, 'PATCH', `/api/chat_rooms/${room.id}/members/${early.id}/`, { role: 'owner' })).statusCode, 404, 'ownership cannot be given to it');
    assert.equal((await call(t, owner, 'POST', `/api/chat_rooms/${room.id}/leave/`)).statusCode, 204);
    assert.deepEqual(await members(late, room.id), [[late.id, 'owner']], 'the next member, not the older deleted one');
  });

  it('stops notifications to the deleted account and its count in member_count', async () => {
    const [owner, gone] = await users(t, 2);
    const room = await group(t, owner, [gone]);
    assert.equal((await remove(gone)).statusCode, 204);
    const msg = await send(t, owner, room.id, 'anyone there?');
    const rows = await t.ctx.db.selectFrom('notifications').select('id').where('user_id', '=', gone.id).where('message_id', '=', msg.id).execute();
    assert.deepEqual(rows, []);
    assert.equal((await ok(call(t, owner, 'GET', `/api/chat_rooms/${room.id}/`))).member_count, 1);
    const left = (await ok(call(t, owner, 'GET', '/api/notifications/'))).results.filter((n: any) => n.type === 'leave' && n.chat_room === room.id);
    assert.equal(left.length, 1, 'the group was told once');
  });

  it('a private conversation simply loses the member', async () => {
    const [a, b] = await users(t, 2);
    const room = await privateRoom(t, a, b);
    await send(t, b, room.id, 'hello');
    assert.equal((await remove(a)).statusCode, 204);
    assert.deepEqual(await activeRooms(a.id), []);
    assert.deepEqual(await activeRooms(b.id).then((ids) => ids.includes(room.id)), true);
    const types = (await eventTypes(room.id)).map(([type]) => type);
    assert.equal(types.at(-1), 'member_left');
    assert.ok(!types.includes('member_role_changed'), 'no owner to hand on in a private room');
    assert.equal((await ok(call(t, b, 'GET', `/api/chat_rooms/${room.id}/`))).member_count, 1);
    const history = await ok(call(t, b, 'GET', `/api/messages/?chat_room=${room.id}`));
    assert.ok(JSON.stringify(history).includes('hello'), 'the survivor keeps the conversation');
  });

  it('of an owner and the last member deleting at once, neither stays a member or the owner', async () => {
    for (let round = 0; round < 4; round++) {
      const [owner, member, bystander] = await users(t, 3);
      const room = await group(t, owner, [member]);
      const other = await group(t, member, [owner, bystander]);
      const codes = (await Promise.all([remove(owner), remove(member)])).map((r) => r.statusCode);
      assert.deepEqual(codes, [204, 204]);
      for (const u of [owner, member]) assert.deepEqual(await activeRooms(u.id), [], `round ${round}`);
      const left = await t.ctx.db.selectFrom('memberships').select(['user_id', 'role']).where('chat_room_id', 'in', [room.id, other.id]).where('is_active', '=', 1).execute();
      assert.deepEqual(left, [{ user_id: bystander.id, role: 'owner' }], `round ${round}: the bystander owns the second group`);
    }
  });

  it('of a deletion and joins of the same account at once, no membership survives the account', async () => {
    for (let round = 0; round < 3; round++) {
      const [owner, leaver] = await users(t, 2);
      const groups = [];
      for (let i = 0; i < 5; i++) groups.push(await group(t, owner));
      await ok(call(t, leaver, 'POST', `/api/chat_rooms/${groups[0].id}/join/`));
      const answers = await Promise.all([remove(leaver), ...groups.slice(1).map((g) => call(t, leaver, 'POST', `/api/chat_rooms/${g.id}/join/`))]);
      assert.equal(answers[0].statusCode, 204);
      assert.ok(answers.slice(1).every((r) => r.statusCode === 200 || r.statusCode === 401), answers.map((r) => r.statusCode).join());
      assert.deepEqual(await activeRooms(leaver.id), [], `round ${round}`);
      for (const g of groups) assert.equal((await ok(call(t, owner, 'GET', `/api/chat_rooms/${g.id}/`))).member_count, 1);
    }
  });

  it('a room created with a member whose account is deleted meanwhile is refused, not made with them', async () => {
    const [creator, doomed, bystander] = await users(t, 3);
    // The account is deleted after the creation checked its members and before its transaction runs.
    const writer = t.ctx.writer;
    const run = writer.run.bind(writer);
    let deleted: Promise<unknown> | null = null;
    writer.run = ((rooms, work) => {
      if (rooms !== null || deleted) return run(rooms, work);
      deleted = remove(doomed).then((r) => assert.equal(r.statusCode, 204));
      return deleted.then(() => run(rooms, work));
    }) as typeof writer.run;
    try {
      const res = await call(t, creator, 'POST', '/api/chat_rooms/', { room_type: 'group', name: 'g', is_public: false, members: [bystander.id, doomed.id] });
      assert.ok(deleted, 'the deletion ran in between');
      assert.equal(res.statusCode, 400, res.body);
      assert.deepEqual(res.json().members, [`Invalid pk "${doomed.id}" - object does not exist.`]);
    } finally {
      writer.run = run;
    }
    assert.deepEqual(await activeRooms(doomed.id), []);
    assert.deepEqual(await activeRooms(bystander.id), [], 'no room was made');
  });

  it('of a deletion and a leave at once, ownership never lands on the deleted account', async () => {
    for (let round = 0; round < 4; round++) {
      const [owner, member, last] = await users(t, 3);
      const room = await group(t, owner, [member, last]);
      await Promise.all([call(t, owner, 'POST', `/api/chat_rooms/${room.id}/leave/`), remove(member)]);
      assert.deepEqual(await members(last, room.id), [[last.id, 'owner']], `round ${round}`);
    }
  });
});
