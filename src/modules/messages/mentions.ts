// Who a message mentions: the ids a client names in `mentions`, and `@username` in the text of a
// room that is not end-to-end encrypted. Only the room's active members count; the rest is ignored.
import { inJsonArray } from '../../db/dialect.js';
import { preparedQuery, type Param } from '../../db/prepared.js';
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

// Prepared once (db/prepared.ts): the lists travel as JSON arrays, one parameter each.
const activeMembersAmong = preparedQuery((db, p: Param<{ chat_room_id: number; ids: string; names: string }>) =>
  db
    .selectFrom('memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select('m.user_id')
    .where('m.chat_room_id', '=', p('chat_room_id'))
    .where('m.is_active', '=', 1)
    .where((eb) => eb.or([inJsonArray(db, 'm.user_id', p('ids'), 'integer'), inJsonArray(db, 'u.username_key', p('names'), 'text')]))
    .orderBy('m.user_id'),
);

/** The active members of the room among `ids` and the username keys `names`, in id order. */
export async function mentionedMembers(db: Db, chatRoomId: number, ids: number[], names: string[]): Promise<number[]> {
  if (ids.length === 0 && names.length === 0) return [];
  const rows = await activeMembersAmong(db, { chat_room_id: chatRoomId, ids: JSON.stringify(ids), names: JSON.stringify(names) });
  return rows.map((r) => r.user_id);
}
