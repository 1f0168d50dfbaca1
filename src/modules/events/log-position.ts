// How far the event log may be read: the position below which every event id handed out has
// committed or rolled back. Ids come from a sequence without any lock, so on PostgreSQL a
// transaction may commit id 12 while id 11 is still in flight; a reader that went past 11 would
// skip it for good (live, and on `?since=` resume). As Synapse's multi-writer stream ids do, a
// reader only advances to that position.
import { isPostgres, pgEventIdHeadAndWriters } from '../../db/dialect.js';
import type { Db } from '../../db/schema.js';
import { eventLog } from './event-log.js';

export interface LogPosition {
  /** Every event id up to the answer has committed or rolled back (it never goes down). */
  safe(): Promise<number>;
  /** Where a reader starting now begins: the end of the log, once everything before it is settled. */
  start(): Promise<number>;
}

/**
 * SQLite runs one write transaction at a time and draws ids inside it, so ids commit in
 * order: the last id a reader sees is the bound.
 */
export function sqlitePosition(db: Db): LogPosition {
  const safe = () => eventLog.lastId(db);
  return { safe, start: safe };
}

/**
 * PostgreSQL. Every transaction that writes events has its transaction id before it draws an
 * event id (it locks or updates its room first; see eventLog.append). So: read the sequence's
 * head H, then the write transactions in progress X. Any id ≤ H belongs to a transaction that
 * had its id by then, so it is either finished or in X; once none of X is in progress any more,
 * every id ≤ H is settled. Each call records a (H, X) pair and settles the earlier ones.
 */
export class WritersPosition implements LogPosition {
  private settled = 0;
  private waiting: Array<{ head: number; inProgress: string[] }> = [];

  constructor(private readonly db: Db) {}

  async start(): Promise<number> {
    const { head } = await pgEventIdHeadAndWriters(this.db);
    // Settles within the longest write transaction in progress (milliseconds).
    while ((await this.safe()) < head) await new Promise((r) => setTimeout(r, 5));
    return head;
  }

  async safe(): Promise<number> {
    const { head, writers: inProgress } = await pgEventIdHeadAndWriters(this.db);
    const now = new Set(inProgress);
    for (const w of this.waiting) if (w.inProgress.every((x) => !now.has(x))) this.settled = Math.max(this.settled, w.head);
    if (inProgress.length === 0) this.settled = Math.max(this.settled, head);
    // Under constant load the pairs settle within a transaction's time; the cap only bounds memory.
    else if (this.waiting.length < MAX_WAITING) this.waiting.push({ head, inProgress });
    this.waiting = this.waiting.filter((w) => w.head > this.settled);
    return this.settled;
  }
}

const MAX_WAITING = 256;

export function logPosition(db: Db): LogPosition {
  return isPostgres(db) ? new WritersPosition(db) : sqlitePosition(db);
}
