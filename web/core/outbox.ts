// Messages on their way out. Each send gets a client_id before its first attempt and keeps it
// through every retry, so the server stores it once however often it is sent (a repeated
// client_id returns the first message). Sends made offline wait here, in order, and go out when
// the connection is back; a send the server refuses stays, marked failed, until retried or
// discarded. The queue is kept in the tab's storage, so a reload does not lose it.
import { signal } from '@preact/signals-core';
import { ApiError, messageOf } from './errors.js';
import type { Api } from './http.js';
import { randomId } from './ids.js';
import type { Message } from './types.js';

export interface OutboxItem {
  client_id: string;
  chat_room: number;
  content: string;
  reply_to: number | null;
  /** A thread reply: the root's id. */
  thread?: number | null;
  /** User ids to mention (picked from the room's members). */
  mentions?: number[];
  created_at: string;
  state: 'pending' | 'sending' | 'failed';
  error?: string;
  /** For an end-to-end encrypted room: `content` is the plaintext shown here, never sent. */
  encrypted?: boolean;
  /** What is sent as `content` (the ciphertext), made once before the first attempt and kept for every retry. */
  wire?: string;
}

/**
 * Turns an item into the `content` to send (encrypts it for an encrypted room), or null to send
 * `content` as it is. Called before an item's first attempt; throws to fail it (an ApiError that
 * is transient: try again later).
 */
export type PrepareContent = (item: OutboxItem) => Promise<string | null>;

/** localStorage / sessionStorage, or anything shaped like them. */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export function memoryStorage(): StorageLike {
  const m = new Map<string, string>();
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v), removeItem: (k) => void m.delete(k) };
}

export class Outbox {
  readonly items = signal<OutboxItem[]>([]);
  private flushing = false;
  private again = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  /** Consecutive network failures: the wait before the next try doubles with each (the socket's return also retries). */
  private failures = 0;

  constructor(
    private readonly api: Api,
    private readonly storage: StorageLike,
    private readonly key: string,
    /** Called with the stored message once the server has it. */
    private readonly onSent: (message: Message, item: OutboxItem) => void,
    private readonly prepare: PrepareContent | null = null,
  ) {
    try {
      const saved = JSON.parse(storage.getItem(key) ?? '[]') as OutboxItem[];
      // Whatever was in flight when the page went away is sent again (its client_id makes that safe).
      this.items.value = saved.map((i) => (i.state === 'sending' ? { ...i, state: 'pending' } : i));
    } catch {
      this.items.value = [];
    }
  }

  /** Queues a message and tries to send it now. */
  enqueue(input: { chat_room: number; content: string; reply_to?: number | null; thread?: number | null; mentions?: number[]; encrypted?: boolean }): OutboxItem {
    const item: OutboxItem = {
      client_id: `web-${randomId()}`,
      chat_room: input.chat_room,
      content: input.content,
      reply_to: input.reply_to ?? null,
      ...(input.thread ? { thread: input.thread } : {}),
      ...(input.mentions?.length ? { mentions: input.mentions } : {}),
      ...(input.encrypted ? { encrypted: true } : {}),
      created_at: new Date().toISOString(),
      state: 'pending',
    };
    this.set([...this.items.value, item]);
    void this.flush();
    return item;
  }

  retry(clientId: string): void {
    this.patch(clientId, { state: 'pending', error: undefined });
    void this.flush();
  }

  /** Drops everything still queued (the user logged out on this device). */
  discardAll(): void {
    this.set([]);
  }

  discard(clientId: string): void {
    this.set(this.items.value.filter((i) => i.client_id !== clientId));
  }

  /** Sends pending messages in order; stops at the first that cannot go out yet (offline, busy server). */
  async flush(): Promise<void> {
    if (this.flushing) {
      this.again = true;
      return;
    }
    this.flushing = true;
    try {
      do {
        this.again = false;
        for (const item of this.items.value.filter((i) => i.state === 'pending')) {
          if (!this.items.value.some((i) => i.client_id === item.client_id && i.state === 'pending')) continue;
          this.patch(item.client_id, { state: 'sending' });
          try {
            let content = this.items.value.find((i) => i.client_id === item.client_id)?.wire ?? item.wire;
            if (content === undefined && this.prepare) {
              const wire = await this.prepare(item);
              if (wire !== null) this.patch(item.client_id, { wire, encrypted: true });
              content = wire ?? undefined;
            }
            const sent: OutboxItem = content === undefined ? item : { ...item, wire: content, encrypted: true };
            // An item meant for an encrypted room never goes out as it was written.
            if (content === undefined && item.encrypted) throw new Error('This message could not be encrypted, so it was not sent.');
            const message = await this.api.post<Message>('/api/messages/', {
              chat_room: item.chat_room,
              content: content ?? item.content,
              client_id: item.client_id,
              ...(item.reply_to ? { reply_to: item.reply_to } : {}),
              ...(item.thread ? { thread: item.thread } : {}),
              ...(item.mentions?.length ? { mentions: item.mentions } : {}),
            });
            this.failures = 0;
            this.discard(item.client_id);
            this.onSent(message, sent);
          } catch (err) {
            if (err instanceof ApiError && err.isTransient) {
              this.patch(item.client_id, { state: 'pending' });
              this.retryLater(err.isNetwork ? Math.min(30_000, 1_000 * 2 ** this.failures++) : (err.retryAfter ?? 5) * 1000);
              return;
            }
            this.patch(item.client_id, { state: 'failed', error: messageOf(err) });
          }
        }
      } while (this.again);
    } finally {
      this.flushing = false;
    }
  }

  private retryLater(ms: number) {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.flush();
    }, ms);
  }

  close(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private patch(clientId: string, change: Partial<OutboxItem>) {
    this.set(this.items.value.map((i) => (i.client_id === clientId ? { ...i, ...change } : i)));
  }

  private set(items: OutboxItem[]) {
    this.items.value = items;
    if (items.length) this.storage.setItem(this.key, JSON.stringify(items));
    else this.storage.removeItem(this.key);
  }
}
