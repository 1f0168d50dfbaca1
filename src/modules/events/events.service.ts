// The one place changes become events: written in the change's transaction, published on
// the bus only after it commits (a rolled-back change never reaches a client).
import { CompiledQuery } from 'kysely';
import type { Static } from 'typebox';
import type { AppContext } from '../../context.js';
import { nowIso } from '../../context.js';
import type { ChatRoomRow, Db, EventRow } from '../../db/schema.js';
import type { Message } from '../messages/messages.schemas.js';
import type { Notification } from '../notifications/notifications.schemas.js';
import type { Reaction } from '../reactions/reactions.schemas.js';
import type { Room } from '../rooms/rooms.schemas.js';
import { roomChannel, userChannel } from '../../realtime/channels.js';
import { appendEvents, lockEvents, serializeEvent } from './events.repository.js';

type MemberChange = { user: number; username: string; by: number };

/** Every event type and its fields (besides id, type, chat_room and created_at). */
export interface RoomEvents {
  room_created: { room: Static<typeof Room>; members: number[] };
  room_updated: { room: Static<typeof Room> };
  /** `members`: who belonged to it, since the room and its memberships are gone. */
  room_deleted: { members: number[]; by: number };
  member_joined: MemberChange;
  member_left: MemberChange;
  new_message: { message: Static<typeof Message> };
  message_updated: { message: Static<typeof Message> };
  message_deleted: { message: Static<typeof Message> };
  read: { user: number; message: number };
  reaction: { reaction: Static<typeof Reaction>; action: 'added' | 'changed' | 'removed' };
  /** Addressed to the notification's owner only (add it with `recipientId`). */
  notification: { chat_room: number | null; notification: Static<typeof Notification> };
}

export type RoomEventType = keyof RoomEvents;


export interface QueuedEvent {
  type: RoomEventType;
  chatRoomId: number;
  userId: number | null;
  messageId: number | null;
  payload: Record<string, unknown>;
  notifyUsers: number[];
  /** Set: the event goes to this user only (published on user:<id>, replayed to them alone). */
  recipientId: number | null;
  /** The room as the change read it in this transaction, for observers (never sent to clients). */
  room: ChatRoomRow | null;
}

/** The events of one transaction, appended to the log just before it commits. */
export class EventBatch {
  readonly queued: QueuedEvent[] = [];
  readonly afterCommit: Array<() => Promise<void>> = [];

  add<K extends RoomEventType>(
    type: K,
    at: { chatRoomId: number; userId?: number | null; messageId?: number | null; notifyUsers?: number[]; recipientId?: number | null; room?: ChatRoomRow },
    payload: RoomEvents[K],
  ): void {
    this.queued.push({
      type,
      chatRoomId: at.chatRoomId,
      userId: at.userId ?? null,
      messageId: at.messageId ?? null,
      payload,
      notifyUsers: at.notifyUsers ?? [],
      recipientId: at.recipientId ?? null,
      room: at.room ?? null,
    });
  }
}

/**
 * Sees every room event of a transaction before it commits, and may write more in it (the
 * notifications module turns messages, reactions, joins and leaves into notifications). Events
 * addressed to one user are not observed.
 */
export type EventObserver = (trx: Db, events: EventBatch, event: QueuedEvent) => Promise<void>;

// Keyed by the app's context (several apps may share a process, as in tests); AppContext has no
// slot for observers, and every service already reaches withEvents through its ctx.
const observers = new WeakMap<AppContext, EventObserver[]>();
const batches = new WeakMap<object, EventBatch>();

export function observeEvents(ctx: AppContext, observer: EventObserver): void {
  const list = observers.get(ctx) ?? [];
  list.push(observer);
  observers.set(ctx, list);
}

/**
 * Runs `fn` once the withEvents transaction `trx` has committed (never if it rolls back): for
 * side effects outside the database, such as removing a deleted attachment's file.
 */
export function onCommit(trx: Db, fn: () => Promise<void>): void {
  const batch = batches.get(trx);
  if (!batch) throw new Error('onCommit needs a transaction opened by withEvents');
  batch.afterCommit.push(fn);
}

interface Job {
  work: (trx: Db, events: EventBatch) => Promise<unknown>;
  batch: EventBatch;
  result?: unknown;
  written?: Array<{ row: EventRow; notifyUsers: number[] }>;
  error?: unknown;
  settle: { resolve(v: unknown): void; reject(e: unknown): void };
}

interface Queue {
  jobs: Job[];
  /** A flush is scheduled or running; what arrives meanwhile waits for the next one. */
  busy: boolean;
}

const queues = new WeakMap<AppContext, Queue>();

const SAVEPOINT = CompiledQuery.raw('savepoint job');
const RELEASE = CompiledQuery.raw('release savepoint job');
const ROLLBACK_TO = CompiledQuery.raw('rollback to savepoint job');

/**
 * Runs `work` in a transaction that holds the event-log lock from its first statement, so
 * the ids it allocates (events and messages) follow commit order and no transaction waits
 * for the lock while holding row locks. Returns `work`'s result after commit and publishing.
 *
 * Group commit: one transaction at a time; the changes asked for while one runs (or during the
 * turn of the event loop before it starts) share the next (one lock, one commit), each inside
 * its own savepoint, so one change failing rolls back only itself. Every caller still gets its
 * answer only after the commit.
 */
export function withEvents<T>(ctx: AppContext, work: (trx: Db, events: EventBatch) => Promise<T>): Promise<T> {
  let queue = queues.get(ctx);
  if (!queue) queues.set(ctx, (queue = { jobs: [], busy: false }));
  return new Promise<T>((resolve, reject) => {
    queue!.jobs.push({ work, batch: new EventBatch(), settle: { resolve: resolve as (v: unknown) => void, reject } });
    schedule(ctx, queue!);
  });
}

function schedule(ctx: AppContext, queue: Queue): void {
  if (queue.busy || queue.jobs.length === 0) return;
  queue.busy = true;
  setImmediate(() => {
    flush(ctx, queue.jobs.splice(0)).finally(() => {
      queue.busy = false;
      schedule(ctx, queue);
    });
  });
}

async function flush(ctx: AppContext, jobs: Job[]): Promise<void> {
  try {
    const trx = await ctx.db.startTransaction().execute();
    try {
      await lockEvents(trx);
      const alone = jobs.length === 1;
      for (const job of jobs) {
        if (!alone) await trx.executeQuery(SAVEPOINT);
        try {
          await runJob(ctx, trx, job);
          if (!alone) await trx.executeQuery(RELEASE);
        } catch (err) {
          if (alone) throw err;
          job.error = err;
          job.written = undefined;
          await trx.executeQuery(ROLLBACK_TO);
          await trx.executeQuery(RELEASE);
        }
      }
      await trx.commit().execute();
    } catch (err) {
      await trx.rollback().execute().catch(() => {});
      throw err;
    }
  } catch (err) {
    for (const job of jobs) job.settle.reject(job.error ?? err);
    return;
  }
  for (const job of jobs) {
    if (job.error !== undefined) job.settle.reject(job.error);
    else {
      await publishAll(ctx, job);
      job.settle.resolve(job.result);
    }
  }
}

async function runJob(ctx: AppContext, trx: Db, job: Job): Promise<void> {
  const batch = job.batch;
  batches.set(trx, batch);
  job.result = await job.work(trx, batch);
  const watchers = observers.get(ctx) ?? [];
  // Observers may queue more events; those are seen too (except user-addressed ones).
  for (let i = 0; i < batch.queued.length; i++) {
    const e = batch.queued[i];
    if (e.recipientId === null) for (const watch of watchers) await watch(trx, batch, e);
  }
  const createdAt = nowIso();
  const rows = await appendEvents(trx, batch.queued.map((e) => ({ ...e, createdAt })));
  job.written = rows.map((row, i) => ({ row, notifyUsers: batch.queued[i].notifyUsers }));
}

async function publishAll(ctx: AppContext, job: Job): Promise<void> {
  const written = job.written ?? [];
  // Room events one after another, in log order. A run of user-addressed events (a message's
  // notifications, one per member) is issued at once: publishes are issued in log order, and
  // both buses deliver in the order issued.
  for (let i = 0; i < written.length; ) {
    if (written[i].row.recipient_id === null) {
      await publish(ctx, written[i].row, written[i].notifyUsers);
      i++;
      continue;
    }
    const run: Array<Promise<void>> = [];
    for (; i < written.length && written[i].row.recipient_id !== null; i++) run.push(publish(ctx, written[i].row, []));
    await Promise.all(run);
  }
  for (const fn of job.batch.afterCommit) {
    await fn().catch((err) => ctx.log.warn({ err }, 'an after-commit step failed'));
  }
}

/** Live delivery is best effort: the change is committed, and replay from the log covers a lost publish. */
async function publish(ctx: AppContext, row: EventRow, notifyUsers: number[]): Promise<void> {
  const wire = serializeEvent(row);
  const channels =
    row.recipient_id !== null ? [userChannel(row.recipient_id)] : [roomChannel(row.chat_room_id), ...[...new Set(notifyUsers)].map(userChannel)];
  // One event's channels in parallel, events one after another: a transaction's events arrive in
  // log order (concurrent transactions may publish out of order; subscribers go by event id).
  await Promise.all(
    channels.map((channel) =>
      ctx.bus.publish(channel, wire).catch((err) => ctx.log.warn({ err, eventId: row.id, channel }, 'publishing an event failed')),
    ),
  );
}
