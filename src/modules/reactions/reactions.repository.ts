import type { Insertable, Updateable } from 'kysely';
import type { Db, ReactionRow, ReactionsTable } from '../../db/schema.js';
import { reactionSummary, type ReactionSummaryView } from './reactions.view.js';

export const reactionsRepository = {
  insert(db: Db, r: Insertable<ReactionsTable>): Promise<ReactionRow> {
    return db.insertInto('reactions').values(r).returningAll().executeTakeFirstOrThrow();
  },

  findById(db: Db, id: number): Promise<ReactionRow | undefined> {
    return db.selectFrom('reactions').selectAll().where('id', '=', id).executeTakeFirst();
  },

  update(db: Db, id: number, patch: Updateable<ReactionsTable>): Promise<ReactionRow> {
    return db.updateTable('reactions').set(patch).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  },

  async delete(db: Db, id: number): Promise<void> {
    await db.deleteFrom('reactions').where('id', '=', id).execute();
  },

  /** A message's reactions, oldest first. */
  listForMessage(db: Db, messageId: number): Promise<ReactionRow[]> {
    return db.selectFrom('reactions').selectAll().where('message_id', '=', messageId).orderBy('id').execute();
  },

  /** The reactions of each message (as shown in messages), oldest first. */
  async summariesFor(db: Db, messageIds: number[]): Promise<Map<number, ReactionSummaryView[]>> {
    const out = new Map<number, ReactionSummaryView[]>();
    if (messageIds.length === 0) return out;
    const rows = await db
      .selectFrom('reactions')
      .select(['id', 'message_id', 'user_id', 'reaction_type'])
      .where('message_id', 'in', messageIds)
      .orderBy('id')
      .execute();
    for (const r of rows) {
      const list = out.get(r.message_id) ?? [];
      list.push(reactionSummary(r));
      out.set(r.message_id, list);
    }
    return out;
  },

  async deleteForMessage(db: Db, messageId: number): Promise<void> {
    await db.deleteFrom('reactions').where('message_id', '=', messageId).execute();
  },
};
