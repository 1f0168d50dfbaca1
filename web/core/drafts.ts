// What someone was writing in each conversation, kept in (local) storage per user, with an index
// of the rooms that have one so that a logout can remove them all.
import type { StorageLike } from './outbox.js';

export class Drafts {
  constructor(
    private readonly storage: StorageLike,
    private readonly prefix: string,
    /** Whose drafts (the logged-in user's id). */
    private readonly user: () => number | null,
  ) {}

  private key(roomId: number | string) {
    return `${this.prefix}:draft:${this.user()}:${roomId}`;
  }

  private get indexKey() {
    return `${this.prefix}:drafts:${this.user()}`;
  }

  private rooms(): Array<number | string> {
    try {
      return JSON.parse(this.storage.getItem(this.indexKey) ?? '[]') as Array<number | string>;
    } catch {
      return [];
    }
  }

  get(roomId: number | string): string {
    return this.storage.getItem(this.key(roomId)) ?? '';
  }

  set(roomId: number | string, text: string): void {
    const rooms = new Set(this.rooms());
    if (text) {
      this.storage.setItem(this.key(roomId), text);
      rooms.add(roomId);
    } else {
      this.storage.removeItem(this.key(roomId));
      rooms.delete(roomId);
    }
    if (rooms.size) this.storage.setItem(this.indexKey, JSON.stringify([...rooms]));
    else this.storage.removeItem(this.indexKey);
  }

  /** Removes every draft of the user. */
  clear(): void {
    for (const roomId of this.rooms()) this.storage.removeItem(this.key(roomId));
    this.storage.removeItem(this.indexKey);
  }
}
