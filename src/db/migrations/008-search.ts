import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../dialect.js';

/**
 * Full-text search over messages, kept current by triggers on `messages`, so an insert, an
 * edit or a delete changes the index in its own transaction (nothing to forget, no lag).
 *
 * SQLite: an FTS5 external-content table over messages(content, chat_room_id), Porter stems
 * over unicode61 (case and diacritics folded). `chat_room_id` is indexed as a token of its own
 * column so that a search can intersect its words with the caller's rooms inside the index.
 * A soft delete clears the content, which removes its words from the index.
 *
 * PostgreSQL: `message_search`, one row per message that is not deleted, holding its
 * `english` tsvector (stored: ranking reads it instead of parsing the text again), with a GIN
 * index; the primary key (chat_room_id, message_id) serves the caller's-rooms filter. A side
 * table rather than a column of `messages`, so that every read of messages (history pages,
 * the send's `returning *`) does not carry the vector.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  if (dialect === 'sqlite') {
    await sql`create virtual table messages_fts using fts5(
      content, chat_room_id,
      content = 'messages', content_rowid = 'id',
      tokenize = 'porter unicode61 remove_diacritics 2'
    )`.execute(db);
    // External content: the index must be told the old values to remove them.
    await sql`create trigger messages_fts_insert after insert on messages begin
      insert into messages_fts (rowid, content, chat_room_id) values (new.id, new.content, new.chat_room_id);
    end`.execute(db);
    await sql`create trigger messages_fts_update after update of content, chat_room_id on messages begin
      insert into messages_fts (messages_fts, rowid, content, chat_room_id) values ('delete', old.id, old.content, old.chat_room_id);
      insert into messages_fts (rowid, content, chat_room_id) values (new.id, new.content, new.chat_room_id);
    end`.execute(db);
    await sql`create trigger messages_fts_delete after delete on messages begin
      insert into messages_fts (messages_fts, rowid, content, chat_room_id) values ('delete', old.id, old.content, old.chat_room_id);
    end`.execute(db);
    await sql`insert into messages_fts (messages_fts) values ('rebuild')`.execute(db);
    return;
  }

  await sql`create table message_search (
    chat_room_id integer not null,
    message_id integer not null,
    sender_id integer not null,
    tsv tsvector not null,
    primary key (chat_room_id, message_id)
  )`.execute(db);
  await sql`insert into message_search (chat_room_id, message_id, sender_id, tsv)
    select chat_room_id, id, sender_id, to_tsvector('english'::regconfig, content) from messages where is_deleted = 0`.execute(db);
  await sql`create index message_search_tsv_idx on message_search using gin (tsv)`.execute(db);
  // One function for the three triggers: a message's row is replaced when its text or deletion
  // changes, and goes with it (a room's deletion cascades to its messages, firing this).
  await sql`create function message_search_sync() returns trigger language plpgsql as $$
    begin
      if tg_op <> 'INSERT' then
        delete from message_search where chat_room_id = old.chat_room_id and message_id = old.id;
      end if;
      if tg_op <> 'DELETE' and new.is_deleted = 0 then
        insert into message_search (chat_room_id, message_id, sender_id, tsv)
        values (new.chat_room_id, new.id, new.sender_id, to_tsvector('english'::regconfig, new.content));
      end if;
      return null;
    end
  $$`.execute(db);
  await sql`create trigger message_search_insert after insert on messages for each row execute function message_search_sync()`.execute(db);
  await sql`create trigger message_search_update after update of content, is_deleted, chat_room_id, sender_id on messages for each row
    when (old.content is distinct from new.content or old.is_deleted <> new.is_deleted or old.chat_room_id <> new.chat_room_id or old.sender_id <> new.sender_id)
    execute function message_search_sync()`.execute(db);
  await sql`create trigger message_search_delete after delete on messages for each row execute function message_search_sync()`.execute(db);
}
