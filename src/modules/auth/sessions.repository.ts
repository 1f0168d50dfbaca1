import type { Db, SessionRow } from '../../db/schema.js';

export const sessionsRepository = {
  async create(db: Db, s: { userId: number; refreshHash: string; now: string; expiresAt: string }): Promise<number> {
    const row = await db
      .insertInto('sessions')
      .values({ user_id: s.userId, refresh_hash: s.refreshHash, created_at: s.now, last_used_at: s.now, expires_at: s.expiresAt })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  },

  async setRefresh(db: Db, id: number, refreshHash: string): Promise<void> {
    await db.updateTable('sessions').set({ refresh_hash: refreshHash }).where('id', '=', id).execute();
  },

  findById(db: Db, id: number): Promise<SessionRow | undefined> {
    return db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
  },

  /** Moves a live session from generation `gen` (holding `oldHash`) to gen + 1; false if it was not there. */
  async rotate(db: Db, r: { id: number; gen: number; oldHash: string; newHash: string; now: string; expiresAt: string }): Promise<boolean> {
    const res = await db
      .updateTable('sessions')
      .set({ refresh_gen: r.gen + 1, refresh_hash: r.newHash, last_used_at: r.now, expires_at: r.expiresAt })
      .where('id', '=', r.id)
      .where('refresh_gen', '=', r.gen)
      .where('refresh_hash', '=', r.oldHash)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', r.now)
      .where((eb) => eb.exists(eb.selectFrom('users').select('users.id').whereRef('users.id', '=', 'sessions.user_id').where('users.is_active', '=', 1)))
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  },

  /** Revokes the given live sessions of a user (all when `ids` is omitted, except `keep`); returns the ids revoked. */
  async revoke(db: Db, r: { userId: number; ids?: number[]; keep?: number; now: string; reason: string }): Promise<number[]> {
    let q = db
      .updateTable('sessions')
      .set({ revoked_at: r.now, revoke_reason: r.reason })
      .where('user_id', '=', r.userId)
      .where('revoked_at', 'is', null);
    if (r.ids) q = q.where('id', 'in', r.ids);
    if (r.keep !== undefined) q = q.where('id', '!=', r.keep);
    const rows = await q.returning('id').execute();
    return rows.map((x) => x.id);
  },

  async revokedSince(db: Db, since: string): Promise<Array<{ id: number; revoked_at: string }>> {
    const rows = await db.selectFrom('sessions').select(['id', 'revoked_at']).where('revoked_at', '>', since).execute();
    return rows as Array<{ id: number; revoked_at: string }>;
  },
};
