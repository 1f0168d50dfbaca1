// Which rooms are large (more than LARGE_ROOM_MEMBERS active members), as a send's rate limit
// needs to know: remembered for a while per room, so a send reads nothing more for it.
import type { Db } from '../../db/schema.js';
import { membershipsRepository } from '../rooms/memberships.repository.js';

const REMEMBER_MS = 30_000;
const MAX_ROOMS = 10_000;

export class LargeRooms {
  private readonly known = new Map<number, { large: boolean; until: number }>();

  constructor(
    private readonly db: Db,
    private readonly threshold: number,
  ) {}

  async isLarge(chatRoomId: number, now = Date.now()): Promise<boolean> {
    const k = this.known.get(chatRoomId);
    if (k && k.until > now) return k.large;
    const large = await membershipsRepository.hasMoreThan(this.db, chatRoomId, this.threshold);
    if (this.known.size >= MAX_ROOMS) this.known.clear();
    this.known.set(chatRoomId, { large, until: now + REMEMBER_MS });
    return large;
  }
}
