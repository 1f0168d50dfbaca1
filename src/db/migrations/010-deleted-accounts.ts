import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../dialect.js';

/**
 * Accounts deleted before deletion ended their memberships kept them: end those now (no events:
 * they are history), and give every group left without an owner one, its longest-standing admin
 * or else member whose account is active. Then index attachments by uploader (the upload quota
 * sums a user's bytes).
 */
export async function up(db: Kysely<any>, _dialect: DialectName): Promise<void> {
  const now = new Date().toISOString();
  await sql`
    update memberships set is_active = 0, left_at = ${now}, role = 'member', hidden_at_message_id = null
    where is_active = 1 and user_id in (select id from users where deleted_at is not null)`.execute(db);
  // For each group with active members but no active owner: its heir, chosen as removeMember does.
  await sql`
    update memberships set role = 'owner'
    where id in (
      select (
        select m.id from memberships m join users u on u.id = m.user_id
        where m.chat_room_id = r.id and m.is_active = 1 and u.is_active = 1
        order by case when m.role = 'admin' then 0 else 1 end, m.id
        limit 1
      )
      from chat_rooms r
      where r.room_type = 'group'
        and not exists (select 1 from memberships o where o.chat_room_id = r.id and o.is_active = 1 and o.role = 'owner')
    )`.execute(db);
  await db.schema.createIndex('attachments_uploader_idx').on('attachments').column('uploader_id').execute();
}
