// The unread count of a conversation counts each message once, whichever way it comes: live, in
// a REST load of the conversations made after it was sent, or both (a load racing the socket,
// a resume replaying what the load already had).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChatStore, type Membership, type Message } from '../../web/core/index.js';

const hooks = { conversationsStale: () => {}, readWhileViewing: () => {} };
const message = (id: number, sender = 2): Message => ({ id, chat_room: 7, sender, content: `m${id}` }) as unknown as Message;
const conversation = (last: Message | null, unread: number): Membership =>
  ({ id: 1, chat_room: 7, unread_count: unread, last_message: last, last_seen_message: null }) as unknown as Membership;

test('a message already counted by the loaded conversation is not counted again when it arrives live', () => {
  const store = new ChatStore({} as never, hooks);
  store.me.value = 1;
  store.setConversations([conversation(message(10), 1)]); // loaded after message 10 was sent
  store.addMessage(message(10)); // ...and the same message live
  assert.equal(store.conversations.value.get(7)!.unread_count, 1);
  store.addMessage(message(11)); // a newer one counts
  assert.equal(store.conversations.value.get(7)!.unread_count, 2);
  store.addMessage(message(11)); // once
  assert.equal(store.conversations.value.get(7)!.unread_count, 2);
});
