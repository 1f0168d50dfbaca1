import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../dialect.js';

/**
 * Each room's events get `seq`, the room's own gapless counter (1, 2, 3, … in commit order),
 * kept in `chat_rooms.event_seq` and taken under the room row's lock. Events about a message
 * store no copy of it: the log reads it from `messages` when an event is sent (an edit or a
 * delete then never rewrites earlier events).
 */
export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  await db.schema.alterTable('chat_rooms').addColumn('event_seq', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('events').addColumn('seq', 'integer').execute();
  await sql`
    update events set seq = numbered.seq
    from (select id, row_number() over (partition by chat_room_id order by id) as seq from events where recipient_id is null) as numbered
    where events.id = numbered.id`.execute(db);
  await sql`
    update chat_rooms set event_seq = coalesce((select max(seq) from events where events.chat_room_id = chat_rooms.id and events.recipient_id is null), 0)`.execute(db);
  await db.schema.createIndex('events_room_seq_key').unique().on('events').columns(['chat_room_id', 'seq']).execute();
  await sql`update events set payload = '{}' where type in ('new_message', 'message_updated', 'message_deleted')`.execute(db);
}
