import type { Db } from '../../db/schema.js';

/** Whole-server counts for staff (accounts: usersRepository.activeIds). */
export const statsRepository = {
  async rooms(db: Db): Promise<number> {
    const { count } = await db.selectFrom('chat_rooms').select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
    return Number(count);
  },

  async messages(db: Db): Promise<number> {
    const { count } = await db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('count')).where('is_deleted', '=', 0).executeTakeFirstOrThrow();
    return Number(count);
  },
};
