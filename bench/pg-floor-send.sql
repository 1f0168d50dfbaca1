-- pgbench script: the statements of one send in the new PostgreSQL write path (per-room lock,
-- room-scoped event seq), with a private room's one recipient. As in src/modules/events/
-- event-log.ts: only room events take a seq (the recipient's notification event has
-- chat_room_id 0 and seq null), and a message event stores '{}' (the log reads the message
-- when it sends the event). bench/pg-floor.ts passes the values with -D (rooms, content, now,
-- body, notified: the notification event's payload as the server builds it) and, for the
-- reference run, inserts the old global event-log lock (pg_advisory_xact_lock) after BEGIN.
\set room random(1, :rooms)
\set user 2 * :room - 1
BEGIN;
SELECT id, event_seq FROM chat_rooms WHERE id IN (:room) ORDER BY id FOR UPDATE;
SELECT r.*, m.id AS m_id, m.role AS m_role, m.is_active AS m_is_active, m.joined_at AS m_joined_at, m.left_at AS m_left_at, m.last_read_message_id AS m_last_read_message_id, m.marked_unread AS m_marked_unread, m.hidden_at_message_id AS m_hidden_at_message_id, m.is_muted AS m_is_muted FROM memberships m JOIN chat_rooms r ON r.id = m.chat_room_id WHERE m.chat_room_id = :room AND m.user_id = :user;
SELECT * FROM users WHERE id = :user;
INSERT INTO messages (chat_room_id, sender_id, client_id, content, public_key, reply_to_id, created_at, updated_at) VALUES (:room, :user, NULL, :content, NULL, NULL, :now, :now) RETURNING *
\gset msg_
INSERT INTO notifications (type, body, chat_room_id, message_id, actor_id, created_at, user_id) SELECT 'message', :body, CAST(:room AS integer), CAST(:msg_id AS integer), CAST(:user AS integer), :now, user_id FROM memberships WHERE chat_room_id = :room AND is_active = 1 AND is_muted = 0 AND user_id <> :user ORDER BY user_id RETURNING *
\gset ntf_
UPDATE chat_rooms SET event_seq = event_seq + 1 WHERE id = :room RETURNING event_seq
\gset
INSERT INTO events (chat_room_id, user_id, message_id, type, payload, created_at, recipient_id, seq) VALUES (:room, :user, :msg_id, 'new_message', '{}', :now, NULL, :event_seq), (0, :user, NULL, 'notification', :notified, :now, :ntf_user_id, NULL) RETURNING *;
COMMIT;
