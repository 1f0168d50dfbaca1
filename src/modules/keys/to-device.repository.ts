// Every query of the to-device queues.
import type { Insertable } from 'kysely';
import { isPostgres } from '../../db/dialect.js';
import type { Db, ToDeviceMessageRow, ToDeviceMessagesTable } from '../../db/schema.js';

const INSERT_CHUNK = 500;

export const toDeviceRepository = {
  /**
   * Locks the recipient devices' rows until the transaction ends, in id order, and returns the
   * ids of those that still exist: sends to one device take turns, so its queue's bound holds and
   * its envelopes commit in id order (an acknowledgement up to an id never passes one still in flight).
   * FOR NO KEY UPDATE on PostgreSQL; SQLite runs one writer at a time.
   */
  async lockDevices(trx: Db, ids: number[]): Promise<Set<number>> {
    if (ids.length === 0) return new Set();
    const q = trx.selectFrom('e2ee_devices').select('id').where('id', 'in', ids).orderBy('id');
    const rows = await (isPostgres(trx) ? q.forNoKeyUpdate() : q).execute();
    return new Set(rows.map((r) => r.id));
  },

  /** Envelopes waiting per device: in all, and from `senderId`. */
  async pendingCounts(db: Db, ids: number[], senderId: number): Promise<Map<number, { all: number; sender: number }>> {
    if (ids.length === 0) return new Map();
    const rows = await db
      .selectFrom('to_device_messages')
      .select((eb) => [
        'device_pk',
        eb.fn.countAll<number>().as('n'),
        eb.fn.sum<number>(eb.case().when('sender_id', '=', senderId).then(1).else(0).end()).as('mine'),
      ])
      .where('device_pk', 'in', ids)
      .groupBy('device_pk')
      .execute();
    return new Map(rows.map((r) => [r.device_pk, { all: Number(r.n), sender: Number(r.mine) }]));
  },

  /** Inserts the envelopes; returns their rows in id order. */
  async insert(trx: Db, rows: Array<Insertable<ToDeviceMessagesTable>>): Promise<ToDeviceMessageRow[]> {
    const out: ToDeviceMessageRow[] = [];
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      out.push(...(await trx.insertInto('to_device_messages').values(rows.slice(i, i + INSERT_CHUNK)).returningAll().execute()));
    }
    return out.sort((a, b) => a.id - b.id);
  },

  /** A device's envelopes after `after`, oldest first. */
  list(db: Db, devicePk: number, after: number, limit: number): Promise<ToDeviceMessageRow[]> {
    return db.selectFrom('to_device_messages').selectAll().where('device_pk', '=', devicePk).where('id', '>', after).orderBy('id').limit(limit).execute();
  },

  /** Deletes a device's envelopes up to `upTo` (inclusive). */
  async deleteUpTo(db: Db, devicePk: number, upTo: number): Promise<number> {
    const res = await db.deleteFrom('to_device_messages').where('device_pk', '=', devicePk).where('id', '<=', upTo).executeTakeFirst();
    return Number(res.numDeletedRows);
  },
};
