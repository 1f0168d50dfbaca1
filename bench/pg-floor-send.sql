-- pgbench script: the statements of one send as the server runs them on PostgreSQL (taken from
-- the server's own queries; bench/send-statements.ts counts them), with a private room's one
-- recipient, against the server's migrated schema (its triggers and indexes included: the
-- search index, the thread summary). One send a transaction, as a lone send runs; under load the
-- server shares the begin, the room lock, the seq update and the commit among a batch's sends.
-- Only room events take a seq (the recipient's notification event has chat_room_id 0 and seq
-- null), and a message event stores '{}' (the log reads the message when it sends the event).
-- bench/pg-floor.ts passes the values with -D (rooms, content, now, body, notified: the
-- notification event's payload as the server builds it) and, for the reference run, inserts the
-- old global event-log lock (pg_advisory_xact_lock) after BEGIN.
\set room random(1, :rooms)
\set user 2 * :room - 1
BEGIN;
SELECT id, event_seq FROM chat_rooms WHERE id IN (:room) ORDER BY id FOR UPDATE
\gset lock_
SELECT r.*, u.id AS u_id, u.username AS u_username, u.first_name AS u_first_name, u.last_name AS u_last_name, m.id AS m_id, m.role AS m_role, m.is_active AS m_is_active, m.joined_at AS m_joined_at, m.left_at AS m_left_at, m.last_read_message_id AS m_last_read_message_id, m.marked_unread AS m_marked_unread, m.hidden_at_message_id AS m_hidden_at_message_id, m.is_muted AS m_is_muted FROM chat_rooms r LEFT JOIN memberships m ON m.chat_room_id = r.id AND m.user_id = :user LEFT JOIN users u ON u.id = :user AND u.is_active = 1 WHERE r.id = :room;
INSERT INTO messages (chat_room_id, sender_id, client_id, content, public_key, reply_to_id, thread_root_id, mentions, created_at, updated_at) VALUES (:room, :user, NULL, :content, NULL, NULL, NULL, '[]', :now, :now) RETURNING *
\gset msg_
INSERT INTO notifications (type, body, chat_room_id, message_id, actor_id, created_at, user_id) SELECT CASE WHEN user_id IN (SELECT CAST(jsonb_array_elements_text(CAST('[]' AS jsonb)) AS integer)) THEN 'mention' ELSE 'message' END, CASE WHEN user_id IN (SELECT CAST(jsonb_array_elements_text(CAST('[]' AS jsonb)) AS integer)) THEN :body ELSE :body END, CAST(:room AS integer), CAST(:msg_id AS integer), CAST(:user AS integer), :now, user_id FROM memberships WHERE chat_room_id = :room AND is_active = 1 AND user_id <> :user AND (user_id IN (SELECT CAST(jsonb_array_elements_text(CAST('[]' AS jsonb)) AS integer)) OR (is_muted = 0 AND NOT EXISTS (SELECT id FROM memberships WHERE chat_room_id = :room AND is_active = 1 LIMIT 1 OFFSET 100))) ORDER BY user_id RETURNING *
\gset ntf_
INSERT INTO events (chat_room_id, user_id, message_id, type, payload, created_at, recipient_id, seq) VALUES (:room, :user, :msg_id, 'new_message', '{}', :now, NULL, :lock_event_seq + 1), (0, :user, NULL, 'notification', :notified, :now, :ntf_user_id, NULL) RETURNING *;
UPDATE chat_rooms c SET event_seq = v.seq FROM unnest(ARRAY[:room]::integer[], ARRAY[:lock_event_seq + 1]::bigint[]) AS v(id, seq) WHERE c.id = v.id;
COMMIT;
