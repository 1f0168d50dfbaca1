// Every query of the device directory: devices, their one-time prekeys, and who may see them.
import type { Insertable } from 'kysely';
import { isPostgres, skipLocked } from '../../db/dialect.js';
import type { Db, E2eeDeviceRow, E2eeDevicesTable } from '../../db/schema.js';

export const devicesRepository = {
  insert(trx: Db, row: Insertable<E2eeDevicesTable>): Promise<E2eeDeviceRow> {
    return trx.insertInto('e2ee_devices').values(row).returningAll().executeTakeFirstOrThrow();
  },

  find(db: Db, userId: number, deviceId: string): Promise<E2eeDeviceRow | undefined> {
    return db.selectFrom('e2ee_devices').selectAll().where('user_id', '=', userId).where('device_id', '=', deviceId).executeTakeFirst();
  },

  /** A user's devices, oldest first. */
  listForUser(db: Db, userId: number): Promise<E2eeDeviceRow[]> {
    return db.selectFrom('e2ee_devices').selectAll().where('user_id', '=', userId).orderBy('id').execute();
  },

  /** The devices of a room's active members whose accounts are active, by user then age. */
  listForRoom(db: Db, chatRoomId: number): Promise<E2eeDeviceRow[]> {
    return db
      .selectFrom('e2ee_devices as d')
      .innerJoin('memberships as m', (j) => j.onRef('m.user_id', '=', 'd.user_id').on('m.chat_room_id', '=', chatRoomId).on('m.is_active', '=', 1))
      .innerJoin('users as u', (j) => j.onRef('u.id', '=', 'd.user_id').on('u.is_active', '=', 1))
      .selectAll('d')
      .orderBy('d.user_id')
      .orderBy('d.id')
      .execute();
  },

  /** The devices of active accounts among `userIds`, shared-locked until the transaction ends when `lock` (PostgreSQL). */
  async ofActiveUsers(db: Db, userIds: number[], lock = false): Promise<E2eeDeviceRow[]> {
    if (userIds.length === 0) return [];
    const q = db
      .selectFrom('e2ee_devices as d')
      .innerJoin('users as u', 'u.id', 'd.user_id')
      .selectAll('d')
      .where('d.user_id', 'in', userIds)
      .where('u.is_active', '=', 1)
      .orderBy('d.id');
    // Only the devices' rows: a claim must not hold the accounts' rows.
    return (lock && isPostgres(db) ? q.forShare('d') : q).execute();
  },

  /** The device ids of `userIds` (any account), a few hundred users a query. */
  async idsOfUsers(db: Db, userIds: number[]): Promise<Array<{ user_id: number; device_id: string }>> {
    const out: Array<{ user_id: number; device_id: string }> = [];
    for (let i = 0; i < userIds.length; i += 500) {
      out.push(...(await db.selectFrom('e2ee_devices').select(['user_id', 'device_id']).where('user_id', 'in', userIds.slice(i, i + 500)).execute()));
    }
    return out;
  },

  async countForUser(db: Db, userId: number): Promise<number> {
    const row = await db.selectFrom('e2ee_devices').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow();
    return Number(row.n);
  },

  async updateSignedPrekey(trx: Db, id: number, spk: { key_id: number; public_key: string; signature: string }, now: string): Promise<void> {
    await trx
      .updateTable('e2ee_devices')
      .set({ signed_prekey_id: spk.key_id, signed_prekey: spk.public_key, signed_prekey_signature: spk.signature, updated_at: now })
      .where('id', '=', id)
      .execute();
  },

  /** Deletes the device; its prekeys and queued envelopes go with it (foreign keys cascade). */
  async delete(trx: Db, id: number): Promise<boolean> {
    const res = await trx.deleteFrom('e2ee_devices').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  },

  async insertPrekeys(trx: Db, devicePk: number, keys: Array<{ key_id: number; public_key: string }>, createdAt: string): Promise<void> {
    if (keys.length === 0) return;
    await trx.insertInto('device_prekeys').values(keys.map((k) => ({ device_pk: devicePk, key_id: k.key_id, public_key: k.public_key, created_at: createdAt }))).execute();
  },

  async countPrekeys(db: Db, devicePk: number): Promise<number> {
    const row = await db.selectFrom('device_prekeys').select((eb) => eb.fn.countAll<number>().as('n')).where('device_pk', '=', devicePk).executeTakeFirstOrThrow();
    return Number(row.n);
  },

  /** Which of `keyIds` the device already has unclaimed. */
  async takenKeyIds(db: Db, devicePk: number, keyIds: number[]): Promise<number[]> {
    if (keyIds.length === 0) return [];
    const rows = await db.selectFrom('device_prekeys').select('key_id').where('device_pk', '=', devicePk).where('key_id', 'in', keyIds).execute();
    return rows.map((r) => r.key_id);
  },

  /**
   * Takes the device's oldest one-time prekey in one statement, deleting it as it is returned:
   * as keysRepository.claimPrekey, FOR UPDATE SKIP LOCKED on PostgreSQL (concurrent claims take
   * different rows without waiting), one writer at a time on SQLite.
   */
  claimPrekey(db: Db, devicePk: number): Promise<{ key_id: number; public_key: string } | undefined> {
    const oldest = skipLocked(db, db.selectFrom('device_prekeys').select('id').where('device_pk', '=', devicePk).orderBy('id').limit(1));
    return db.deleteFrom('device_prekeys').where('id', '=', oldest).returning(['key_id', 'public_key']).executeTakeFirst();
  },

  /**
   * Makes one user's device registrations take turns until the transaction ends (the device cap
   * is checked, then kept): the account row is locked FOR NO KEY UPDATE on PostgreSQL, which
   * leaves rows referencing it free to be written; SQLite runs one writer at a time.
   */
  async lockUser(trx: Db, userId: number): Promise<void> {
    const q = trx.selectFrom('users').select('id').where('id', '=', userId);
    await (isPostgres(trx) ? q.forNoKeyUpdate() : q).execute();
  },
};
