// Who a message mentions: the ids a client names in `mentions`, and `@username` in the text of a
// room that is not end-to-end encrypted. Only the room's active members count; the rest is ignored.
import type { RawBuilder } from 'kysely';
import { inJsonArray, sortedJsonArray } from '../../db/dialect.js';
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

/** Who a message may mention: user ids and username keys, each list as JSON array text (or SQL giving it). */
export interface MentionCandidates {
  ids: string;
  names: string | RawBuilder<string>;
}

/**
 * The active members of the room among the candidates, in id order, as JSON array text: part of
 * the message's insert (one statement, preparable: the lists are parameters, see db/prepared.ts).
 */
export function mentionedMembers(db: Db, chatRoomId: number, c: MentionCandidates): RawBuilder<string> {
  const members = db
    .selectFrom('memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select('m.user_id')
    .where('m.chat_room_id', '=', chatRoomId)
    .where('m.is_active', '=', 1)
    .where((eb) => eb.or([inJsonArray(db, 'm.user_id', c.ids, 'integer'), inJsonArray(db, 'u.username_key', c.names, 'text')]));
  return sortedJsonArray(db, members, 'user_id');
}
