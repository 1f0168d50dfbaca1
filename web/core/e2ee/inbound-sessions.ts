// The room sessions this device reads with, and the indices each has already decrypted, kept in
// memory in front of the store so that decrypting a message costs no store round trip once its
// session is known. Safe because an inbound session record only ever changes to start at an
// earlier index (importSessionKey merges to the lower one): a cached copy decrypts a subset of
// what the stored one does, and a message before its first index reads the store again.
// Seen indices (replay marks) are loaded once per session and written back behind the caller,
// merged with what other tabs stored; a write lost to a crash forgets that index's mark.
import type { InboundGroupSession, SeenIndices } from './group.js';
import { type KeyValueStore, storeKeys } from './store.js';

/** Sessions (and their seen indices) kept in memory; the oldest are forgotten beyond this. */
const MAX_CACHED = 256;

function remember<T>(map: Map<string, T>, key: string, value: T): T {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_CACHED) map.delete(map.keys().next().value!);
  return value;
}

export class InboundSessions {
  private readonly sessions = new Map<string, InboundGroupSession>();
  private readonly seen = new Map<string, SeenIndices>();
  private writes: Promise<void> = Promise.resolve();

  constructor(private readonly store: KeyValueStore) {}

  /** The session, from memory unless the message's `index` lies before its cached first index. */
  async get(room: string, sessionId: string, index?: number): Promise<InboundGroupSession | undefined> {
    const key = storeKeys.inboundGroup(room, sessionId);
    const cached = this.sessions.get(key);
    if (cached && (index === undefined || index >= cached.first_index)) return cached;
    const stored = await this.store.get<InboundGroupSession>(key);
    return stored && remember(this.sessions, key, stored);
  }

  /** Stores a session (made or imported here) and keeps it. */
  async put(session: InboundGroupSession): Promise<void> {
    const key = storeKeys.inboundGroup(session.room, session.session_id);
    await this.store.put(key, session);
    remember(this.sessions, key, session);
  }

  /** The session's seen indices (the object itself: the caller adds fresh marks to it, then calls record). */
  async seenOf(room: string, sessionId: string): Promise<SeenIndices> {
    const key = storeKeys.inboundSeen(room, sessionId);
    return this.seen.get(key) ?? remember(this.seen, key, (await this.store.get<SeenIndices>(key)) ?? {});
  }

  /** Writes fresh marks behind the caller, merged into what is stored (marks stored first win). */
  record(room: string, sessionId: string, marks: SeenIndices): void {
    const key = storeKeys.inboundSeen(room, sessionId);
    this.writes = this.writes
      .then(async () => {
        const stored = (await this.store.get<SeenIndices>(key)) ?? {};
        await this.store.put(key, { ...marks, ...stored });
      })
      .catch(() => undefined);
  }

  /** Resolves once the marks recorded so far are written. */
  flushed(): Promise<void> {
    return this.writes;
  }
}
