// One room's history as a window onto the server's: pages are loaded as the reader scrolls
// (older with `before`, newer with `after`), and the window keeps at most `maxWindow`
// messages, dropping the far end, so a room of any length scrolls without loading all of it.
// Live events change the messages in the window; new ones join it only when the window
// reaches the newest message (otherwise scrolling down loads them). A thread's replies are a
// timeline too (`thread`: the root's id), with the root beside them.
import { signal } from '@preact/signals-core';
import type { Api } from './http.js';
import type { HistoryPage, Message, Reaction } from './types.js';

export interface TimelineOptions {
  pageSize?: number;
  maxWindow?: number;
  /** The replies of this thread (its root's id) instead of the room's top-level messages. */
  thread?: number;
  /** Turns each page as the server sends it into what is shown (decrypts an encrypted room's messages). */
  decode?: (messages: Message[]) => Promise<Message[]>;
}

/** The largest id the API takes as a cursor: `before` it is "the newest". */
const MAX_ID = 2_147_483_647;

type Loading = 'initial' | 'older' | 'newer' | null;

export class Timeline {
  /** Oldest first. */
  readonly messages = signal<Message[]>([]);
  /** Older messages exist beyond the window. */
  readonly hasOlder = signal(false);
  /** Newer messages exist beyond the window (it does not reach the present). */
  readonly hasNewer = signal(false);
  readonly loading = signal<Loading>(null);
  readonly loaded = signal(false);
  /** New messages that arrived while a page was loading: the page may predate them. */
  private arrivedWhileLoading: Message[] = [];
  private catchUpAfterLoad = false;
  private inFlight: Promise<unknown> | null = null;
  private readonly pageSize: number;
  private readonly maxWindow: number;
  private readonly decode: ((messages: Message[]) => Promise<Message[]>) | null;
  /** A thread's root id; null for a room's top-level messages. */
  readonly thread: number | null;
  /** A thread's root message, once known (its summary follows the room's events). */
  readonly root = signal<Message | null>(null);

  constructor(private readonly api: Api, readonly roomId: number, opts: TimelineOptions = {}) {
    this.pageSize = opts.pageSize ?? 50;
    this.maxWindow = Math.max(opts.maxWindow ?? 300, this.pageSize * 2);
    this.thread = opts.thread ?? null;
    this.decode = opts.decode ?? null;
  }

  /** A page, newest first (the server lists a thread's replies oldest first). */
  private async fetch(query: { before?: number; after?: number; limit?: number }): Promise<HistoryPage> {
    const scope = this.thread === null ? { chat_room: this.roomId } : { thread: this.thread };
    const page = await this.api.get<HistoryPage>('/api/messages/', { ...scope, limit: this.pageSize, ...query });
    const results = this.decode ? await this.decode(page.results) : page.results;
    return { ...page, results: this.thread === null ? results : results.slice().reverse() };
  }

  private async guard<T>(kind: Loading, fn: () => Promise<T>): Promise<T | null> {
    if (this.loading.value) return null;
    this.loading.value = kind;
    this.arrivedWhileLoading = [];
    const run = fn();
    this.inFlight = run.catch(() => undefined);
    try {
      const result = await run;
      // Whatever arrived during the request and is newer than the window's end joins it (if the window reaches the present).
      const last = this.newest?.id ?? 0;
      const late = this.arrivedWhileLoading.filter((m) => m.id > last);
      if (late.length && !this.hasNewer.value) this.messages.value = [...this.messages.value, ...late.sort((a, b) => a.id - b.id)];
      return result;
    } finally {
      this.arrivedWhileLoading = [];
      this.inFlight = null;
      this.loading.value = null;
      if (this.catchUpAfterLoad) {
        this.catchUpAfterLoad = false;
        void this.catchUp().catch(() => undefined);
      }
    }
  }

  /** The newest page: the window reaches the present. */
  async loadLatest(): Promise<void> {
    await this.guard('initial', async () => {
      // A thread without a cursor starts at its first reply: `before` the largest id is its newest.
      const page = await this.fetch(this.thread === null ? {} : { before: MAX_ID });
      this.messages.value = page.results.slice().reverse();
      this.hasOlder.value = page.next !== null;
      this.hasNewer.value = false;
      this.loaded.value = true;
    });
  }

  /**
   * A window around a message: `id` itself (when it exists) and what precedes it, then what
   * follows. Used to jump to the first unread message (pass the read position), or to a message
   * (a search result, a pin). Waits for a load in flight, which would otherwise keep it from running.
   */
  async loadAround(id: number): Promise<void> {
    while (this.inFlight) await this.inFlight;
    await this.guard('initial', async () => {
      const [before, after] = await Promise.all([this.fetch({ before: id + 1, limit: Math.ceil(this.pageSize / 2) }), this.fetch({ after: id })]);
      this.messages.value = [...before.results.slice().reverse(), ...after.results.slice().reverse()];
      this.hasOlder.value = before.next !== null;
      this.hasNewer.value = after.previous !== null;
      this.loaded.value = true;
    });
  }

  /** One page of older messages; how many were added. */
  async loadOlder(): Promise<number> {
    const first = this.messages.value[0];
    if (!first || !this.hasOlder.value) return 0;
    const added = await this.guard('older', async () => {
      const page = await this.fetch({ before: first.id });
      const older = page.results.slice().reverse().filter((m) => m.id < first.id);
      let list = [...older, ...this.messages.value];
      this.hasOlder.value = page.next !== null;
      if (list.length > this.maxWindow) {
        list = list.slice(0, this.maxWindow);
        this.hasNewer.value = true;
      }
      this.messages.value = list;
      return older.length;
    });
    return added ?? 0;
  }

  /** One page of newer messages; how many were added. */
  async loadNewer(): Promise<number> {
    if (!this.hasNewer.value) return 0;
    return this.fetchNewer();
  }

  /**
   * Loads what a window at the present may have missed (after a connection that could not
   * replay): the messages after its newest. Waits for a load in flight, whose page may predate them.
   */
  async catchUp(): Promise<void> {
    if (this.loading.value) {
      this.catchUpAfterLoad = true;
      return;
    }
    if (this.loaded.value && !this.hasNewer.value) await this.fetchNewer();
  }

  private async fetchNewer(): Promise<number> {
    const last = this.messages.value[this.messages.value.length - 1];
    if (!last) return this.loaded.value ? (await this.loadLatest(), this.messages.value.length) : 0;
    const added = await this.guard('newer', async () => {
      const page = await this.fetch({ after: last.id });
      const newer = page.results.slice().reverse().filter((m) => m.id > (this.newest?.id ?? last.id));
      let list = [...this.messages.value, ...newer];
      this.hasNewer.value = page.previous !== null;
      if (list.length > this.maxWindow) {
        list = list.slice(list.length - this.maxWindow);
        this.hasOlder.value = true;
      }
      this.messages.value = list;
      return newer.length;
    });
    return added ?? 0;
  }

  /** A new or changed message. A new one joins only a window that reaches the present. */
  upsert(message: Message): void {
    const list = this.messages.value;
    const i = list.findIndex((m) => m.id === message.id);
    if (i >= 0) {
      if (list[i].updated_at > message.updated_at) return;
      const next = list.slice();
      next[i] = message;
      this.messages.value = next;
      return;
    }
    if (this.loading.value && !this.arrivedWhileLoading.some((m) => m.id === message.id)) this.arrivedWhileLoading.push(message);
    if (this.hasNewer.value || !this.loaded.value) return;
    // A change to a message before the window (an edit, a pin) is not a new message.
    if (this.hasOlder.value && list.length && message.id < list[0].id) return;
    const last = list[list.length - 1];
    if (!last || last.id < message.id) {
      this.messages.value = [...list, message];
    } else {
      this.messages.value = [...list, message].sort((a, b) => a.id - b.id);
    }
    if (this.messages.value.length > this.maxWindow) {
      this.messages.value = this.messages.value.slice(this.messages.value.length - this.maxWindow);
      this.hasOlder.value = true;
    }
  }

  applyReaction(reaction: Reaction, action: 'added' | 'changed' | 'removed'): void {
    const list = this.messages.value;
    const i = list.findIndex((m) => m.id === reaction.message);
    if (i < 0) return;
    const m = list[i];
    const others = m.reactions.filter((r) => r.id !== reaction.id);
    const reactions = action === 'removed' ? others : [...others, { id: reaction.id, user: reaction.user, reaction_type: reaction.reaction_type }].sort((a, b) => a.id - b.id);
    const next = list.slice();
    next[i] = { ...m, reactions };
    this.messages.value = next;
  }

  /** A thread's root, unless what is known is newer. */
  setRoot(m: Message): void {
    const current = this.root.value;
    if (!current || current.updated_at <= m.updated_at) this.root.value = m;
  }

  find(id: number): Message | undefined {
    return this.messages.value.find((m) => m.id === id);
  }

  /** The newest message in the window. */
  get newest(): Message | undefined {
    return this.messages.value[this.messages.value.length - 1];
  }
}
