// Each instance reads the event log in order and hands every event to its sockets: the log, not
// the bus, is what sockets receive, so an event committed on any instance reaches every socket
// once, in id order (a room's events in seq order), even if the instance that wrote it died
// before telling anyone or Redis was away. The bus only says "read now" (a commit happened);
// without it, each instance still reads every logPollMs.
import crypto from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Db, EventRow } from '../db/schema.js';
import { eventLog } from '../modules/events/event-log.js';
import type { Written } from '../modules/events/writer.js';
import type { LogPosition } from '../modules/events/log-position.js';
import type { Bus } from './bus.js';
import type { Hub } from './hub.js';

/** The bus channel on which instances say that they committed events. */
const COMMITS = 'log:commits';
const READ_BATCH = 1000;

export class LogTail {
  private position = 0;
  private pumping = false;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Tells this instance's own commit announcements (which the bus hands back) from the others'. */
  private readonly instance = crypto.randomBytes(8).toString('hex');
  /** Events this instance committed and has not read back yet: sent without reading their messages. */
  private readonly local = new Map<number, Written>();

  constructor(
    private readonly db: Db,
    private readonly bound: LogPosition,
    private readonly hub: Hub,
    private readonly bus: Bus,
    private readonly log: FastifyBaseLogger,
    private readonly pollMs: number,
  ) {}

  /** Every event up to here has been handed to this instance's sockets (or is being). */
  get dispatched(): number {
    return this.position;
  }

  /** An id up to which every event has committed or rolled back (for a socket that reloads its state over REST). */
  committedUpTo(): Promise<number> {
    return this.bound.safe();
  }

  /** Starts at the log's current end (sockets that connect later replay what they missed). */
  async start(): Promise<void> {
    this.position = await this.bound.start();
    await this.bus.subscribe(COMMITS, (from) => from !== this.instance && this.poke());
    this.bus.onResync(() => this.poke());
    this.timer = setInterval(() => this.poke(), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  /** A write on this instance committed: read now, and tell the other instances (never waited for). */
  committed(written: Written[]): void {
    for (const w of written) if (w.row.id > this.position) this.local.set(w.row.id, w);
    this.poke();
    this.bus.publish(COMMITS, this.instance).catch((err) => this.log.debug({ err }, 'announcing a commit failed'));
  }

  /** Reads the log up to its safe bound and dispatches; calls while reading make it read again. */
  poke(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    this.pump()
      .catch((err) => this.log.warn({ err }, 'reading the event log failed (retried at the next commit or poll)'))
      .finally(() => {
        this.pumping = false;
        if (this.again) {
          this.again = false;
          this.poke();
        }
      });
  }

  /**
   * The rows as sent, with the messages they are about read from the database. Planned already
   * (the hub's memberships moved on, the position too): a failure here would lose them for this
   * instance's sockets, so it is retried until the database answers (nothing else could be read meanwhile).
   */
  private async wired(rows: EventRow[]) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await eventLog.wire(this.db, rows);
      } catch (err) {
        if (this.stopped) throw err;
        this.log.warn({ err: (err as Error).message }, 'reading messages for events failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 2000)));
      }
    }
  }

  private async pump(): Promise<void> {
    const upto = await this.bound.safe();
    for (;;) {
      const rows = await eventLog.range(this.db, this.position, upto, READ_BATCH);
      if (rows.length === 0) break;
      const audiences = this.hub.plan(rows);
      // Sockets that connect from here on replay up to this position; everything after reaches them live.
      this.position = rows[rows.length - 1].id;
      const wires = new Map<number, string>();
      const unknown = [];
      for (const [i, row] of rows.entries()) {
        const mine = this.local.get(row.id);
        this.local.delete(row.id);
        if (audiences[i] === null) continue;
        const wire = mine ? eventLog.wireOf(row, mine.event) : null;
        if (wire !== null) wires.set(row.id, wire);
        else unknown.push(row);
      }
      for (const w of await this.wired(unknown)) wires.set(w.row.id, w.wire);
      rows.forEach((row, i) => {
        const wire = wires.get(row.id);
        const audience = audiences[i];
        if (wire === undefined || audience === null) return;
        const bytes = Buffer.from(wire);
        const meta = { id: row.id, type: row.type, chat_room: row.chat_room_id };
        for (const client of audience) client.deliver(bytes, meta);
      });
      if (rows.length < READ_BATCH) break;
    }
    // Everything up to the bound is read (ids of rolled-back changes have no row).
    if (upto > this.position) this.position = upto;
    // Rows gone before they were read (a deleted room's) leave nothing behind.
    for (const id of this.local.keys()) if (id <= this.position) this.local.delete(id);
  }
}
