// The floor under figure 1: the rows a send writes (its message, one notification and two
// events, with the payloads the server writes), with better-sqlite3 and nothing else: no HTTP,
// no Kysely, no other JavaScript between statements. A fresh database made by our migrations,
// committed in batches of 30 (about what group commit batches under the sends load). µs per send.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import SQLite from 'better-sqlite3';
import { openDatabase } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import type { MessageRow, NotificationRow } from '../src/db/schema.js';
import { messageView } from '../src/modules/messages/messages.view.js';
import { notificationView } from '../src/modules/notifications/notifications.view.js';
import { round } from './lib.js';

export async function sqliteFloor(dir: string, sends = 30_000, batch = 30) {
  const file = path.join(dir, 'floor.sqlite');
  fs.mkdirSync(dir, { recursive: true });
  const database = openDatabase({ databaseUrl: null, sqlitePath: file });
  await migrateToLatest(database);
  await database.close();
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  const now = new Date().toISOString();
  db.prepare(
    "insert into users (username, username_key, email, email_key, password_hash, first_name, last_name, bio, date_joined, is_active) values ('a','a','a@x','a@x','x','','','',?,1), ('b','b','b@x','b@x','x','','','',?,1)",
  ).run(now, now);
  db.prepare("insert into chat_rooms (room_type, name, is_public, created_at, updated_at) values ('private', '', 0, ?, ?)").run(now, now);
  db.prepare("insert into memberships (chat_room_id, user_id, role, is_active, joined_at) values (1, 1, 'member', 1, ?), (1, 2, 'member', 1, ?)").run(now, now);
  const message = db.prepare('insert into messages (chat_room_id, sender_id, client_id, content, public_key, reply_to_id, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?) returning *');
  const notification = db.prepare(
    "insert into notifications (type, body, chat_room_id, message_id, actor_id, created_at, user_id) select 'message', ?, ?, ?, ?, ?, user_id from memberships where chat_room_id = ? and is_active = 1 and is_muted = 0 and user_id <> ? returning *",
  );
  const events = db.prepare('insert into events (chat_room_id, user_id, message_id, type, payload, created_at, recipient_id) values (?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?) returning *');
  const [begin, commit] = [db.prepare('begin'), db.prepare('commit')];
  const content = 'Hey, are we still on for lunch tomorrow at noon?';
  const spent = { message: 0, notification: 0, events: 0, commit: 0 };
  const start = performance.now();
  for (let i = 0; i < sends; i += batch) {
    begin.run();
    for (let j = 0; j < batch; j++) {
      let t = performance.now();
      const m = message.get(1, 1, null, content, null, null, now, now) as MessageRow;
      spent.message += performance.now() - t;
      t = performance.now();
      const n = notification.get('Ann Example sent you a message', 1, m.id, 1, now, 1, 1) as NotificationRow;
      spent.notification += performance.now() - t;
      t = performance.now();
      // The events' payloads as the server writes them.
      const sent = JSON.stringify({ message: messageView({ ...m, sender_username: 'ann', sender_first_name: 'Ann', sender_last_name: 'Example' }) });
      const notified = JSON.stringify({ chat_room: 1, notification: notificationView(n) });
      events.all(1, 1, m.id, 'new_message', sent, now, null, 0, 1, null, 'notification', notified, now, 2);
      spent.events += performance.now() - t;
    }
    const t = performance.now();
    commit.run();
    spent.commit += performance.now() - t;
  }
  const us = (ms: number) => round((ms * 1000) / sends);
  const total = performance.now() - start;
  db.close();
  return { sends, batch, usPerSend: us(total), message: us(spent.message), notification: us(spent.notification), events: us(spent.events), commit: us(spent.commit) };
}
