import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../dialect.js';

/**
 * Search indexes in which the room of each message is part of the key, so that a search reads
 * only what it needs of the caller's rooms (issue 14; figures in bench/README.md, "Search").
 * Migration 008's indexes are replaced, not kept beside: a send still updates one search index.
 *
 * SQLite: `message_search_fts`, a contentless FTS5 table (no copy of the text: highlights and
 * results read `messages`) whose rowid is `id * 2^32 + chat_room_id` (SEARCH_KEY_ROOM_BITS in
 * search.repository.ts). The room is then read from the rowid of each match, with no row to
 * look up, and rowid order is message order, so the newest matches come first without a sort.
 * Prefix indexes for 3 to 6 characters spare the merging of every term that starts with a
 * prefix (`depl` 41,081 matches at 1,000,000 messages: 7.7 → 2.8 ms to count). Messages whose
 * id or room do not fit the key (id ≥ 2^31, room ≥ 2^32) are not indexed, rather than refused.
 * A soft delete removes the message from the index.
 *
 * PostgreSQL: message_search gets a GIN index over its lexemes prefixed by the room,
 * `r<room>_<lexeme>` (message_search_room_lexemes()), in place of the index on `tsv`: a search
 * asks for its rooms' own lexemes (30 rooms: 30 small posting lists instead of one that holds
 * every room's matches). The rows and their trigger stay as migration 008 made them.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  if (dialect === 'sqlite') {
    for (const name of ['messages_fts_insert', 'messages_fts_update', 'messages_fts_delete']) {
      await sql`drop trigger if exists ${sql.ref(name)}`.execute(db);
    }
    await sql`drop table if exists messages_fts`.execute(db);
    await sql`create virtual table message_search_fts using fts5(
      content,
      content = '', contentless_delete = 1,
      prefix = '3 4 5 6',
      tokenize = 'porter unicode61 remove_diacritics 2'
    )`.execute(db);
    const indexed = (m: 'new' | 'old') => sql.raw(`${m}.is_deleted = 0 and ${m}.id < 2147483648 and ${m}.chat_room_id between 0 and 4294967295`);
    const key = (m: 'new' | 'old') => sql.raw(`${m}.id * 4294967296 + ${m}.chat_room_id`);
    await sql`create trigger message_search_fts_insert after insert on messages when ${indexed('new')} begin
      insert into message_search_fts (rowid, content) values (${key('new')}, new.content);
    end`.execute(db);
    await sql`create trigger message_search_fts_update after update of content, is_deleted, chat_room_id on messages
      when old.content is not new.content or old.is_deleted <> new.is_deleted or old.chat_room_id <> new.chat_room_id begin
      delete from message_search_fts where rowid = ${key('old')};
      insert into message_search_fts (rowid, content) select ${key('new')}, new.content where ${indexed('new')};
    end`.execute(db);
    await sql`create trigger message_search_fts_delete after delete on messages begin
      delete from message_search_fts where rowid = ${key('old')};
    end`.execute(db);
    // In rowid order: FTS5 appends to its segments instead of flushing at every step back.
    await sql`insert into message_search_fts (rowid, content)
      select id * 4294967296 + chat_room_id, content from messages m where ${sql.raw('m.is_deleted = 0 and m.id < 2147483648 and m.chat_room_id between 0 and 4294967295')} order by id`.execute(db);
    return;
  }

  await sql`create function message_search_room_lexemes(room integer, tsv tsvector) returns tsvector
    language sql immutable strict parallel safe
    as $$ select array_to_tsvector(array(select 'r' || room || '_' || lexeme from unnest(tsv))) $$`.execute(db);
  await sql`create index message_search_room_lexemes_idx on message_search using gin (message_search_room_lexemes(chat_room_id, tsv))`.execute(db);
  await sql`drop index message_search_tsv_idx`.execute(db);
}
