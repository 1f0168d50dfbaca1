// Join/leave floods (issue 15): joins and leaves are limited per user (RATE_LIMIT_JOIN_LEAVE_PER_USER
// a minute), and one person's own joining or leaving of a room notifies its members at most once
// each per NOTIFY_JOIN_LEAVE_WINDOW.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TestApp, TestUser } from './helpers.js';
import { call, chatApp, group, ok, users } from './chat-helpers.js';

const join = (t: TestApp, u: TestUser, room: number) => call(t, u, 'POST', `/api/chat_rooms/${room}/join/`);
const leave = (t: TestApp, u: TestUser, room: number) => call(t, u, 'POST', `/api/chat_rooms/${room}/leave/`);
const notifications = async (t: TestApp, u: TestUser) => (await ok(call(t, u, 'GET', '/api/notifications/'))).results as any[];

describe('join and leave limits', () => {
  it('limits joins and leaves per user with 429 and Retry-After, leaving the membership as it was', async () => {
    const t = await chatApp({ RATE_LIMIT_JOIN_LEAVE_PER_USER: '4' });
    try {
      const [owner, stranger, other] = await users(t, 3);
      const room = await group(t, owner);
      const rooms = [room, await group(t, owner), await group(t, owner)];
      const codes = [];
      for (let i = 0; i < 2; i++) {
        codes.push((await join(t, stranger, room.id)).statusCode, (await leave(t, stranger, room.id)).statusCode);
      }
      assert.deepEqual(codes, [200, 204, 200, 204]);
      const refused = await join(t, stranger, room.id);
      assert.equal(refused.statusCode, 429, refused.body);
      assert.ok(Number(refused.headers['retry-after']) > 0);
      assert.ok(refused.json().detail);
      assert.equal((await ok(call(t, owner, 'GET', `/api/chat_rooms/${room.id}/`))).member_count, 1, 'the refused join changed nothing');
      assert.equal((await join(t, stranger, rooms[1].id)).statusCode, 429, 'the limit is per user, across rooms');
      for (const r of rooms) assert.equal((await ok(call(t, other, 'POST', `/api/chat_rooms/${r.id}/join/`))).member_count, 2, 'others are not affected');
      assert.equal((await leave(t, other, room.id)).statusCode, 204);
    } finally {
      await t.close();
    }
  });

  it('counts adding yourself through /api/user_chats/ as a join', async () => {
    const t = await chatApp({ RATE_LIMIT_JOIN_LEAVE_PER_USER: '2' });
    try {
      const [owner, stranger] = await users(t, 2);
      const room = await group(t, owner);
      await ok(call(t, stranger, 'POST', '/api/user_chats/', { chat_room: room.id }), 201);
      assert.equal((await leave(t, stranger, room.id)).statusCode, 204);
      const refused = await call(t, stranger, 'POST', '/api/user_chats/', { chat_room: room.id });
      assert.equal(refused.statusCode, 429, refused.body);
      assert.equal((await ok(call(t, owner, 'GET', `/api/chat_rooms/${room.id}/`))).member_count, 1);
    } finally {
      await t.close();
    }
  });

  it('does not count a join that changes nothing (already a member)', async () => {
    const t = await chatApp({ RATE_LIMIT_JOIN_LEAVE_PER_USER: '2' });
    try {
      const [owner, member] = await users(t, 2);
      const room = await group(t, owner);
      await ok(join(t, member, room.id));
      for (let i = 0; i < 5; i++) await ok(join(t, member, room.id));
      assert.equal((await leave(t, member, room.id)).statusCode, 204);
      assert.equal((await join(t, member, room.id)).statusCode, 429);
    } finally {
      await t.close();
    }
  });
});

// Needs the notification rule of the report of issue 15 (NotificationsService.onEvent, outside this
// change's files). Until it is in, the first test is marked todo: remove `todo` together with it.
const NOTIFY_RULE_IN = true;
const ruleIt = NOTIFY_RULE_IN ? it : it.todo;

describe('join and leave notifications', () => {
  ruleIt('tells a group of one person joining and leaving at most once each per window', async () => {
    const t = await chatApp({ RATE_LIMIT_JOIN_LEAVE_PER_USER: '0' });
    try {
      const [owner, member, stranger, added] = await users(t, 4);
      const room = await group(t, owner, [member]);
      for (let i = 0; i < 5; i++) {
        await ok(join(t, stranger, room.id));
        assert.equal((await leave(t, stranger, room.id)).statusCode, 204);
      }
      for (const u of [owner, member]) {
        const about = (await notifications(t, u)).filter((n) => n.actor === stranger.id);
        assert.deepEqual(about.map((n) => n.type).sort(), ['join', 'leave'], `${u.username}: one join and one leave, not five of each`);
      }
      // Changes made by someone else are always told: the person added, and the room.
      for (let i = 0; i < 2; i++) {
        await ok(call(t, owner, 'POST', '/api/user_chats/', { chat_room: room.id, user: added.id }), i === 0 ? 201 : 200);
        assert.equal((await call(t, owner, 'DELETE', `/api/chat_rooms/${room.id}/members/${added.id}/`)).statusCode, 204);
      }
      assert.equal((await notifications(t, added)).filter((n) => n.type === 'join').length, 2);
      assert.equal((await notifications(t, member)).filter((n) => n.actor === owner.id && n.type === 'leave').length, 2);
    } finally {
      await t.close();
    }
  });

  it('tells every time when NOTIFY_JOIN_LEAVE_WINDOW is 0', async () => {
    const t = await chatApp({ RATE_LIMIT_JOIN_LEAVE_PER_USER: '0', NOTIFY_JOIN_LEAVE_WINDOW: '0' });
    try {
      const [owner, stranger] = await users(t, 2);
      const room = await group(t, owner);
      for (let i = 0; i < 3; i++) {
        await ok(join(t, stranger, room.id));
        assert.equal((await leave(t, stranger, room.id)).statusCode, 204);
      }
      assert.equal((await notifications(t, owner)).filter((n) => n.actor === stranger.id).length, 6);
    } finally {
      await t.close();
    }
  });
});
