// Which rooms a search may read, decided here and nowhere else: every search query embeds
// this subquery, so the database itself joins the caller's memberships.
import { sql, type RawBuilder } from 'kysely';

/**
 * The ids of the rooms whose messages `userId` may find: rooms they are an active member of.
 * Never encrypted rooms: their content is ciphertext, and must not be searched even by their
 * members. When E2EE brings `chat_rooms.is_encrypted`, this is the one line to add here:
 * `and r.is_encrypted = 0`.
 */
export function searchableRoomIds(userId: number): RawBuilder<{ chat_room_id: number }> {
  return sql`select ms.chat_room_id from memberships ms join chat_rooms r on r.id = ms.chat_room_id
    where ms.user_id = ${userId} and ms.is_active = 1`;
}
