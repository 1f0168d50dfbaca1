import type { Insertable, Updateable } from 'kysely';
import { forShare, forUpdate, skipLocked } from '../../db/dialect.js';
import type { Db, E2eeKeyRow, E2eeKeysTable, PrekeyIdentitiesTable, PrekeyIdentityRow } from '../../db/schema.js';

export const keysRepository = {
  insertKey(db: Db, k: Insertable<E2eeKeysTable>): Promise<E2eeKeyRow> {
    return db.insertInto('e2ee_keys').values(k).returningAll().executeTakeFirstOrThrow();
  },

  findKey(db: Db, id: number): Promise<E2eeKeyRow | undefined> {
    return db.selectFrom('e2ee_keys').selectAll().where('id', '=', id).executeTakeFirst();
  },

  findSameKey(db: Db, userId: number, publicKey: string): Promise<E2eeKeyRow | undefined> {
    return db.selectFrom('e2ee_keys').selectAll().where('user_id', '=', userId).where('public_key', '=', publicKey).executeTakeFirst();
  },

  listKeys(db: Db, userId: number): Promise<E2eeKeyRow[]> {
    return db.selectFrom('e2ee_keys').selectAll().where('user_id', '=', userId).orderBy('id').execute();
  },

  async countKeys(db: Db, userId: number): Promise<number> {
    const row = await db.selectFrom('e2ee_keys').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow();
    return Number(row.n);
  },

  async deleteKey(db: Db, id: number): Promise<void> {
    await db.deleteFrom('e2ee_keys').where('id', '=', id).execute();
  },

  findIdentity(db: Db, userId: number): Promise<PrekeyIdentityRow | undefined> {
    return db.selectFrom('prekey_identities').selectAll().where('user_id', '=', userId).executeTakeFirst();
  },

  /** The identity row, locked until the transaction ends: uploads of one user take turns. */
  lockIdentity(trx: Db, userId: number): Promise<PrekeyIdentityRow | undefined> {
    return forUpdate(trx, trx.selectFrom('prekey_identities').selectAll().where('user_id', '=', userId)).executeTakeFirst();
  },

  /** The identity row, shared-locked: a claim sees one identity with the prekeys that belong to it. */
  shareIdentity(trx: Db, userId: number): Promise<PrekeyIdentityRow | undefined> {
    return forShare(trx, trx.selectFrom('prekey_identities').selectAll().where('user_id', '=', userId)).executeTakeFirst();
  },

  /** Creates or replaces the identity row (race-safe for a first upload). */
  async upsertIdentity(trx: Db, row: Insertable<PrekeyIdentitiesTable>): Promise<void> {
    const { user_id: _userId, created_at: _createdAt, ...changes } = row;
    await trx.insertInto('prekey_identities').values(row).onConflict((oc) => oc.column('user_id').doUpdateSet(changes)).execute();
  },

  async updateIdentity(trx: Db, userId: number, patch: Updateable<PrekeyIdentitiesTable>): Promise<void> {
    await trx.updateTable('prekey_identities').set(patch).where('user_id', '=', userId).execute();
  },

  async insertPrekeys(trx: Db, userId: number, keys: Array<{ key_id: number; public_key: string }>, createdAt: string): Promise<void> {
    if (keys.length === 0) return;
    await trx.insertInto('one_time_prekeys').values(keys.map((k) => ({ user_id: userId, key_id: k.key_id, public_key: k.public_key, created_at: createdAt }))).execute();
  },

  async deletePrekeys(trx: Db, userId: number): Promise<void> {
    await trx.deleteFrom('one_time_prekeys').where('user_id', '=', userId).execute();
  },

  async countPrekeys(db: Db, userId: number): Promise<number> {
    const row = await db.selectFrom('one_time_prekeys').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow();
    return Number(row.n);
  },

  /** Which of `keyIds` the user already has unclaimed. */
  async takenKeyIds(db: Db, userId: number, keyIds: number[]): Promise<number[]> {
    if (keyIds.length === 0) return [];
    const rows = await db.selectFrom('one_time_prekeys').select('key_id').where('user_id', '=', userId).where('key_id', 'in', keyIds).execute();
    return rows.map((r) => r.key_id);
  },

  /**
   * Takes one one-time prekey, oldest first, in a single statement: it is deleted as it is
   * returned, so no two claims get the same one. On PostgreSQL the row is picked FOR UPDATE SKIP
   * LOCKED (concurrent claims take different rows without waiting); SQLite runs one writer at a time.
   */
  claimPrekey(db: Db, userId: number): Promise<{ key_id: number; public_key: string } | undefined> {
    const oldest = skipLocked(db, db.selectFrom('one_time_prekeys').select('id').where('user_id', '=', userId).orderBy('id').limit(1));
    return db.deleteFrom('one_time_prekeys').where('id', '=', oldest).returning(['key_id', 'public_key']).executeTakeFirst();
  },
};
