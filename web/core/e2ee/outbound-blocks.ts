// Sending without a lock or a store round trip per message. Every tab of a browser shares one
// outbound session per room (in the store). A tab that sends reserves a block of the session's
// next indices (the stored session moves past them, under the device lock) and encrypts from the
// block in memory, so two tabs never use one index, and the store only ever holds chain keys of
// indices not yet used (forward secrecy holds). While a tab keeps any block it holds the Web Lock
// `chat-e2ee-out:<device>` in shared mode. Whatever changes an outbound session in a way that a
// block's holder must not miss (a new or rotated session, a key shared at the current index,
// dropped sessions) runs in `exclusive`: it asks every tab over a BroadcastChannel to drop its
// blocks, and runs once all have let go of the lock (messages being encrypted from a block finish
// first); after it, blocks are reserved again from what it left in the store. Where Web Locks are
// missing (Node, old browsers) there is only this page, and `exclusive` just drops its blocks.
import type { OutboundGroupSession } from './group.js';

/** A run of indices of a room's outbound session that this page alone encrypts with. */
export interface Block {
  /** The session at the next index to use (its chain key, counters and who has its key). */
  session: OutboundGroupSession;
  /** The first index that is not ours. */
  end: number;
}

/** How many indices a tab reserves at a time (fewer when the session is near its rotation). */
export const BLOCK_SIZE = 16;
/** How often a waiting `exclusive` asks again (a tab may have taken the lock just before it queued). */
const ASK_AGAIN_MS = 50;
/** After this long, a waiting `exclusive` takes the lock from tabs that do not answer (a frozen page). */
const STEAL_AFTER_MS = 10_000;

type Release = () => void;

export class OutboundBlocks {
  private readonly blocks = new Map<string, Block>();
  private readonly name: string;
  private readonly locks: LockManager | undefined;
  private readonly channel: BroadcastChannel | null = null;
  /** This page's current grant of the shared lock, while it has one. */
  private holding: Promise<void> | null = null;
  private release: Release | null = null;
  /** Grants dropped while messages were still being encrypted under them: let go after those. */
  private stale: Release[] = [];
  /** Messages being encrypted from a block. */
  private inFlight = 0;
  /** Bumped on every drop: a block reserved across a drop is not kept. */
  private generation = 0;
  /** Closed (log-out, or the device replaced): nothing more runs, and no tab is asked anything. */
  private closed = false;

  constructor(deviceId: string) {
    this.name = `chat-e2ee-out:${deviceId}`;
    const nav = typeof navigator !== 'undefined' ? navigator : undefined;
    if (nav?.locks?.request && typeof BroadcastChannel !== 'undefined') {
      this.locks = nav.locks;
      this.channel = new BroadcastChannel(this.name);
      this.channel.onmessage = () => this.drop();
    }
    // Otherwise there is no way to ask other tabs: behave as the only page.
  }

  /** This page's block for the room, when it has one with indices left. */
  current(room: string): Block | undefined {
    const block = this.blocks.get(room);
    return block && block.session.index < block.end ? block : undefined;
  }

  /**
   * Runs `fn` (which encrypts one message) holding the shared lock: `fn` gets a keep() that
   * records a block reserved in it, unless the blocks were dropped since `fn` began.
   */
  async use<T>(fn: (keep: (room: string, block: Block) => void) => Promise<T>): Promise<T> {
    // Dropped between the grant and here: that grant may be let go already; ask again.
    for (let held = this.hold(); ; held = this.hold()) {
      await held;
      if (!this.locks || this.holding === held) break;
    }
    const generation = this.generation;
    this.inFlight++;
    try {
      return await fn((room, block) => {
        if (generation === this.generation) this.blocks.set(room, block);
      });
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) this.letGoStale();
    }
  }

  /** Runs `fn` once no page holds a block (and none can reserve one until it ends). */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.drop();
    const locks = this.locks;
    if (!locks) return fn();
    let granted = false;
    const run = () => {
      granted = true;
      clearInterval(asking);
      // Closed while waiting: its store is closing too, and the device may be gone.
      if (this.closed) throw new Error('The device was closed.');
      return fn();
    };
    const ask = () => {
      if (!granted && !this.closed) this.channel?.postMessage('drop');
    };
    // A tab may be granted the shared lock just before this request is queued, after the first ask.
    const asking = setInterval(ask, ASK_AGAIN_MS);
    const waited = new AbortController();
    const stealing = setTimeout(() => waited.abort(), STEAL_AFTER_MS);
    try {
      const request = locks.request(this.name, { mode: 'exclusive', signal: waited.signal }, run) as Promise<T>;
      ask();
      return await request;
    } catch (err) {
      // Taken from the holders; each sees its grant end and drops its blocks (hold()).
      if (waited.signal.aborted && !granted) return (await locks.request(this.name, { mode: 'exclusive', steal: true }, run)) as T;
      throw err;
    } finally {
      clearInterval(asking);
      clearTimeout(stealing);
    }
  }

  /** Drops this page's blocks and lets go of the lock (after the messages under way). */
  drop(): void {
    this.generation++;
    this.blocks.clear();
    this.holding = null;
    if (this.release) this.stale.push(this.release);
    this.release = null;
    if (this.inFlight === 0) this.letGoStale();
  }

  /** Stops listening and lets go (log-out). */
  close(): void {
    this.closed = true;
    this.drop();
    this.channel?.close();
  }

  private letGoStale(): void {
    for (const release of this.stale.splice(0)) release();
  }

  /** The shared lock: already held, or asked for (dropped while waiting: asked for again). */
  private hold(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('The device was closed.'));
    const locks = this.locks;
    if (!locks) return Promise.resolve();
    if (this.holding) return this.holding;
    let wasGranted = false;
    const holding: Promise<void> = new Promise<void>((granted, failed) => {
      locks
        .request(this.name, { mode: 'shared' }, () => {
          if (this.holding !== holding) {
            granted(this.hold());
            return undefined;
          }
          wasGranted = true;
          return new Promise<void>((resolve) => {
            this.release = resolve;
            granted();
          });
        })
        // After a grant, a rejection means another tab stole the lock: the blocks go with it.
        .catch((err) => (wasGranted ? this.holding === holding && this.drop() : failed(err)));
    });
    this.holding = holding;
    holding.catch(() => {
      if (this.holding === holding) this.holding = null;
    });
    return holding;
  }
}
