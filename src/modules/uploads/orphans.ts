// Uploaded files that no row refers to: an upload whose attaching transaction never committed
// (the process was killed in between), or a removal after commit that failed. Files are written
// before their row, so a file younger than ORPHAN_AGE_MS may still be on its way to one: only
// older files are swept.
import type { AppContext } from '../../context.js';
import type { Db } from '../../db/schema.js';

export const ORPHAN_AGE_MS = 60 * 60 * 1000;
const CHUNK = 500;

/** The keys of each storage folder that rows still refer to. */
const referenced: Record<string, (db: Db, keys: string[]) => Promise<string[]>> = {
  attachments: async (db, keys) => (await db.selectFrom('attachments').select('storage_key').where('storage_key', 'in', keys).execute()).map((r) => r.storage_key),
  avatars: async (db, keys) => (await db.selectFrom('users').select('profile_picture').where('profile_picture', 'in', keys).execute()).map((r) => r.profile_picture!),
};

/** Removes files older than `ORPHAN_AGE_MS` (before `now`) that no row refers to; how many. */
export async function sweepOrphanedUploads(ctx: Pick<AppContext, 'db' | 'store'>, now = Date.now()): Promise<number> {
  let removed = 0;
  for (const [folder, inUse] of Object.entries(referenced)) {
    const stale = await ctx.store.stale(folder, now - ORPHAN_AGE_MS);
    for (let i = 0; i < stale.length; i += CHUNK) {
      const keys = stale.slice(i, i + CHUNK);
      const kept = new Set(await inUse(ctx.db, keys));
      for (const key of keys) {
        if (kept.has(key)) continue;
        await ctx.store.delete(key);
        removed++;
      }
    }
  }
  return removed;
}
