// Which rooms a search may read, decided here and nowhere else: every search query embeds
// this subquery, so the database itself joins the caller's memberships.
import { sql, type RawBuilder } from 'kysely';

/**
 * The ids of the rooms whose messages `userId` may find: rooms they are an active member of,
 * never encrypted rooms: their content is ciphertext, and must not be searched even by their
 * members. This also hides what a room held before it turned encrypted: every search statement
 * (the matches, their count, and `chat_room` filter's check) reads the rooms from here, so the
 * index's rows of an encrypted room are never reached.
 */
export function searchableRoomIds(userId: number): RawBuilder<{ chat_room_id: number }> {
  return sql`select ms.chat_room_id from memberships ms join chat_rooms r on r.id = ms.chat_room_id
    where ms.user_id = ${userId} and ms.is_active = 1 and r.is_encrypted = 0`;
}
