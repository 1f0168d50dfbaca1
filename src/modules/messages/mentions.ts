// Who a message mentions: the ids a client names in `mentions`, and `@username` in the text of a
// room that is not end-to-end encrypted. Only the room's active members count; the rest is ignored.
import type { Db } from '../../db/schema.js';
import { usernameKey } from '../users/users.repository.js';

const MAX_NAMES = 100;
// A username is letters, digits and @ . + - _ (Django's rule); `@` must not follow one of those.
const AT_NAME = /(?<![\w.@+-])@([\w.@+-]{1,150})/g;

/** The username keys `@name` may mean in `content` (a sentence's final "." or "-" is tried without it). */
export function mentionedNames(content: string): string[] {
  if (!content.includes('@')) return [];
  const keys = new Set<string>();
  for (const [, name] of content.matchAll(AT_NAME)) {
    keys.add(usernameKey(name));
    const trimmed = name.replace(/[.@+-]+$/, '');
    if (trimmed) keys.add(usernameKey(trimmed));
    if (keys.size >= MAX_NAMES) break;
  }
  return [...keys];
}

/** The active members of the room among `ids` and the username keys `names`, in id order. */
export async function mentionedMembers(db: Db, chatRoomId: number, ids: number[], names: string[]): Promise<number[]> {
  if (ids.length === 0 && names.length === 0) return [];
  const rows = await db
    .selectFrom('memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select('m.user_id')
    .where('m.chat_room_id', '=', chatRoomId)
    .where('m.is_active', '=', 1)
    .where((eb) => eb.or([...(ids.length ? [eb('m.user_id', 'in', ids)] : []), ...(names.length ? [eb('u.username_key', 'in', names)] : [])]))
    .orderBy('m.user_id')
    .execute();
  return rows.map((r) => r.user_id);
}
