// Running a group through the SDK against a real server: roles, removal and ban reach every
// client's store live (the removed user's conversation leaves with the reason), the ban list
// follows ban and unban, invites join, and a moderator's deletion carries deleted_by.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { onlineClients, until } from './core-helpers.js';

describe('web core: running a group through the SDK', () => {
  const { client } = onlineClients();

  test('roles, a moderator’s deletion, a ban with its reason and an unban reach every store live', async () => {
    const ada = await client();
    const bob = await client();
    const carol = await client();
    const room = await ada.chat.createGroup({ name: 'crew', is_public: false, members: [bob.user.id, carol.user.id] });
    await until(() => carol.chat.store.conversations.value.get(room.id), Boolean, 'the group at carol');
    await Promise.all([ada, bob, carol].map((c) => c.chat.openRoom(room.id)));

    await ada.chat.team.setRole(room.id, bob.user.id, 'admin');
    await until(() => bob.chat.store.conversations.value.get(room.id)?.role, (r) => r === 'admin', 'bob’s own role');
    await until(() => carol.chat.store.membersOf(room.id).value?.find((m) => m.user === bob.user.id)?.role, (r) => r === 'admin', 'bob’s role at carol');
    assert.equal(bob.chat.moderates(room.id), true);
    assert.equal(carol.chat.moderates(room.id), false);

    // Bob deletes Carol's message: everyone's copy says who did it.
    carol.chat.send(room.id, 'off topic');
    const sent = await until(() => bob.chat.store.timeline(room.id).messages.value.find((m) => m.content === 'off topic'), Boolean, 'the message at bob');
    await bob.chat.deleteMessage(sent!);
    await until(() => carol.chat.store.timeline(room.id).find(sent!.id), (m) => m?.is_deleted === true && m.deleted_by === bob.user.id, 'deleted_by at carol');

    await ada.chat.team.loadBans(room.id);
    await bob.chat.team.ban(room.id, carol.user.id, 'spam');
    const removal = await until(() => carol.chat.store.removed.value.get(room.id), Boolean, 'the removal at carol');
    assert.deepEqual(removal, { name: 'crew', by: bob.user.id, banned: true });
    assert.equal(carol.chat.store.conversations.value.has(room.id), false);
    const bans = await until(() => ada.chat.store.bansOf(room.id).value, (b) => b?.length === 1, 'the ban at ada');
    assert.equal(bans![0].reason, 'spam');
    assert.equal(ada.chat.store.membersOf(room.id).value?.some((m) => m.user === carol.user.id), false);

    await ada.chat.team.unban(room.id, carol.user.id);
    await ada.chat.team.loadBans(room.id);
    assert.deepEqual(ada.chat.store.bansOf(room.id).value, []);
  });

  test('an invite: previewed, accepted into the list, refused once revoked', async () => {
    const ada = await client();
    const dan = await client();
    const room = await ada.chat.createGroup({ name: 'guild', is_public: false, members: [] });
    const invite = await ada.chat.team.createInvite(room.id, { maxUses: 2, expiresIn: 3_600 });
    assert.equal(invite.max_uses, 2);
    assert.deepEqual((await ada.chat.team.invites(room.id)).map((i) => i.code), [invite.code]);
    const preview = await dan.chat.team.invite(invite.code);
    assert.deepEqual(preview.chat_room, { id: room.id, name: 'guild', member_count: 1 });
    const m = await dan.chat.team.acceptInvite(invite.code);
    assert.equal(m.chat_room, room.id);
    assert.ok(dan.chat.store.conversations.value.has(room.id));
    await ada.chat.team.revokeInvite(room.id, invite.code);
    await assert.rejects(dan.chat.team.invite(invite.code), { status: 404 });
  });
});
