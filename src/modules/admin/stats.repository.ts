import type { Db } from '../../db/schema.js';

/** Whole-server counts for staff. */
export const statsRepository = {
  async users(db: Db): Promise<number> {
    const { count } = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('count')).where('is_active', '=', 1).executeTakeFirstOrThrow();
    return Number(count);
  },

  async rooms(db: Db): Promise<number> {
    const { count } = await db.selectFrom('chat_rooms').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
    return Number(count);
  },

  async messages(db: Db): Promise<number> {
    const { count } = await db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('count')).where('is_deleted', '=', 0).executeTakeFirstOrThrow();
    return Number(count);
  },
};
