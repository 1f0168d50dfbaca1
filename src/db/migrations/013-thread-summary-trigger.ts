import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../dialect.js';
import { THREAD_ROOT_IS_REPLY, THREAD_ROOT_NOT_IN_ROOM } from '../dialect.js';

/**
 * A thread reply is checked against its root and counted in the root's summary by the database,
 * in the reply's own insert (as the search index is kept): no statement of the send's for it.
 * The root must be a top-level message of the reply's room; otherwise the insert fails with
 * THREAD_ROOT_NOT_IN_ROOM or THREAD_ROOT_IS_REPLY (dialect.ts tells them apart). The summary keeps
 * the first 10 repliers (MAX_THREAD_PARTICIPANTS), each once.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  // Counted first (the root's checks ride on the update); the root is read only to tell which
  // refusal it is. Within a trigger, changes() is the count of the trigger's own last update.
  if (dialect === 'sqlite') {
    await sql`create trigger messages_thread_reply after insert on messages when new.thread_root_id is not null begin
      update messages set
        thread_reply_count = thread_reply_count + 1,
        thread_last_reply_at = new.created_at,
        thread_participants = case
          when json_array_length(thread_participants) < 10 and not exists (select 1 from json_each(thread_participants) where value = new.sender_id)
          then json_insert(thread_participants, '$[#]', new.sender_id) else thread_participants end
        where id = new.thread_root_id and chat_room_id = new.chat_room_id and thread_root_id is null;
      select raise(abort, ${sql.lit(THREAD_ROOT_NOT_IN_ROOM)})
        where changes() = 0 and not exists (select 1 from messages r where r.id = new.thread_root_id and r.chat_room_id = new.chat_room_id);
      select raise(abort, ${sql.lit(THREAD_ROOT_IS_REPLY)}) where changes() = 0;
    end`.execute(db);
    return;
  }
  await sql`create function messages_thread_reply() returns trigger language plpgsql as $$
    declare
      sender jsonb := to_jsonb(new.sender_id);
    begin
      update messages set
        thread_reply_count = thread_reply_count + 1,
        thread_last_reply_at = new.created_at,
        thread_participants = case
          when jsonb_array_length(cast(thread_participants as jsonb)) < 10 and not (cast(thread_participants as jsonb) @> sender)
          then cast(cast(thread_participants as jsonb) || sender as text) else thread_participants end
        where id = new.thread_root_id and chat_room_id = new.chat_room_id and thread_root_id is null;
      if found then
        return null;
      end if;
      if not exists (select 1 from messages r where r.id = new.thread_root_id and r.chat_room_id = new.chat_room_id) then
        raise exception ${sql.lit(THREAD_ROOT_NOT_IN_ROOM)} using errcode = 'check_violation';
      end if;
      raise exception ${sql.lit(THREAD_ROOT_IS_REPLY)} using errcode = 'check_violation';
    end
  $$`.execute(db);
  await sql`create trigger messages_thread_reply after insert on messages for each row
    when (new.thread_root_id is not null) execute function messages_thread_reply()`.execute(db);
}
