// Who sees what of an account: its email only the account itself and staff; whether it is online
// and when it was last seen, also the people it shares a room with (who get its live presence
// anyway). Everyone else sees its public profile.
import type { Db } from '../../db/schema.js';
import { membershipsRepository } from '../rooms/memberships.repository.js';
import { usersRepository } from './users.repository.js';

export type Visibility = 'full' | 'room_mate' | 'public';

/** How `viewerId` sees each of the accounts `ids`. */
export async function visibilityOf(db: Db, viewerId: number, ids: number[]): Promise<(id: number) => Visibility> {
  const [viewer, mates] = await Promise.all([
    usersRepository.findActive(db, viewerId),
    membershipsRepository.roomMates(db, viewerId, ids),
  ]);
  const staff = viewer?.is_staff === 1;
  const mate = new Set(mates);
  return (id) => (staff || id === viewerId ? 'full' : mate.has(id) ? 'room_mate' : 'public');
}
