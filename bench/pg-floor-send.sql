-- pgbench script: the statements of one send as the server runs them on PostgreSQL (taken from
-- the server's own queries; bench/send-statements.ts counts them), with a private room's one
-- recipient, against the server's migrated schema (its triggers and indexes included: the
-- search index, the thread summary). One send a transaction, as a lone send runs; under load the
-- server shares the begin, the room lock, the seq update and the commit among a batch's sends.
-- Only room events take a seq (the recipient's notification event has chat_room_id 0 and seq
-- null), and a message event stores '{}' (the log reads the message when it sends the event).
-- The notifications' one statement takes its messages as JSON rows (one here; the server passes
-- the JSON text as a parameter, built here by jsonb_build_object).
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
INSERT INTO notifications (type, body, chat_room_id, message_id, actor_id, created_at, user_id) SELECT CASE WHEN v.mentioned @> to_jsonb(m.user_id) THEN 'mention' ELSE 'message' END, CASE WHEN v.mentioned @> to_jsonb(m.user_id) THEN v.mention_body ELSE v.body END, v.chat_room_id, v.message_id, v.actor_id, v.created_at, m.user_id FROM (SELECT * FROM jsonb_to_recordset(jsonb_build_array(jsonb_build_object('ord', 0, 'body', CAST(:body AS text), 'mention_body', CAST(:body AS text), 'mentioned', CAST('[]' AS jsonb), 'chat_room_id', CAST(:room AS integer), 'message_id', CAST(:msg_id AS integer), 'actor_id', CAST(:user AS integer), 'created_at', CAST(:now AS text), 'except_user', CAST(:user AS integer)))) AS v(ord integer, body text, mention_body text, mentioned jsonb, chat_room_id integer, message_id integer, actor_id integer, created_at text, except_user integer)) v JOIN memberships m ON m.chat_room_id = v.chat_room_id WHERE m.is_active = 1 AND m.user_id <> v.except_user AND (v.mentioned @> to_jsonb(m.user_id) OR (m.is_muted = 0 AND NOT EXISTS (SELECT 1 FROM memberships x WHERE x.chat_room_id = v.chat_room_id AND x.is_active = 1 LIMIT 1 OFFSET 100))) ORDER BY v.ord, m.user_id RETURNING *
\gset ntf_
INSERT INTO events (chat_room_id, user_id, message_id, type, payload, created_at, recipient_id, seq) VALUES (:room, :user, :msg_id, 'new_message', '{}', :now, NULL, :lock_event_seq + 1), (0, :user, NULL, 'notification', :notified, :now, :ntf_user_id, NULL) RETURNING *;
UPDATE chat_rooms c SET event_seq = v.seq FROM unnest(ARRAY[:room]::integer[], ARRAY[:lock_event_seq + 1]::bigint[]) AS v(id, seq) WHERE c.id = v.id;
COMMIT;
