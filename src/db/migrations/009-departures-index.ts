import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../dialect.js';

/**
 * The events that take a room away from someone (`member_left`, `room_deleted`), by id: a device
 * resuming with ?since= finds those of rooms it no longer follows without reading the whole log.
 * Partial, so other events (nearly all of them) cost the index nothing.
 */
export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  await db.schema
    .createIndex('events_departures_idx')
    .on('events')
    .column('id')
    .where(sql.ref('type'), 'in', [sql.lit('member_left'), sql.lit('room_deleted')])
    .execute();
}
