// A unit of work: one change's transaction, the events it emits, and what runs once it has
// committed. Services receive it as an argument from the Writer; nothing about it is global.
import type { Db } from '../../db/schema.js';
import type { Emitted, EventAt, EventType, RoomEvents } from './events.types.js';

export type EventHandler<K extends EventType> = (uow: UnitOfWork, event: Emitted<K>) => Promise<void>;

/**
 * What other modules do, in the same transaction, when an event is emitted (notifications for a
 * message, a deleted message's reactions and files). Wired in one place, app.ts.
 */
export class EventHandlers {
  private readonly byType = new Map<EventType, Array<EventHandler<never>>>();

  on<K extends EventType>(types: K | K[], handler: EventHandler<K>): this {
    for (const type of Array.isArray(types) ? types : [types]) {
      const list = this.byType.get(type) ?? [];
      list.push(handler as EventHandler<never>);
      this.byType.set(type, list);
    }
    return this;
  }

  async run<K extends EventType>(uow: UnitOfWork, event: Emitted<K>): Promise<void> {
    for (const handler of this.byType.get(event.type) ?? []) await (handler as EventHandler<K>)(uow, event);
  }
}

/**
 * Work that the changes of one transaction do together, by one statement, instead of one each
 * (the notifications of a batch's messages). `run` gets every change's items, in the order the
 * changes ran, and may emit events on their units of work.
 */
export interface BatchStep<T> {
  run(trx: Db, items: Array<{ uow: UnitOfWork; item: T }>): Promise<void>;
}

/**
 * A statement that runs once for the changes of a transaction that name it, before any of them
 * runs (a batch of sends checked and inserted together), giving each change its result, or
 * undefined when the change must take its own, slower way. See Writer.runAhead.
 */
export interface AheadStep<I, R> {
  run(trx: Db, items: I[]): Promise<Array<R | undefined>>;
}

/** The steps queued by one transaction's changes (see Writer: a batch run without savepoints). */
export class Batch {
  private readonly queued = new Map<BatchStep<never>, Array<{ uow: UnitOfWork; item: never }>>();

  add<T>(step: BatchStep<T>, uow: UnitOfWork, item: T): void {
    const list = this.queued.get(step as BatchStep<never>) ?? [];
    list.push({ uow, item: item as never });
    this.queued.set(step as BatchStep<never>, list);
  }

  /** Runs the queued steps, each once, until none is left (a step's events may queue more). */
  async run(trx: Db): Promise<void> {
    while (this.queued.size > 0) {
      const [step, items] = this.queued.entries().next().value!;
      this.queued.delete(step);
      await step.run(trx, items);
    }
  }
}

export class UnitOfWork {
  /** Emitted so far, in order; appended to the log when the work returns. */
  readonly events: Emitted[] = [];
  readonly afterCommit: Array<() => Promise<void>> = [];

  constructor(
    /** The transaction: every read and write of the change goes through it. */
    readonly trx: Db,
    private readonly handlers: EventHandlers,
    /** Where steps shared with the transaction's other changes wait; null: they run at once. */
    private readonly batch: Batch | null = null,
  ) {}

  /** Queues `item` for `step`, run once for the whole transaction before it commits (at once when it runs alone). */
  async together<T>(step: BatchStep<T>, item: T): Promise<void> {
    if (this.batch) this.batch.add(step, this, item);
    else await step.run(this.trx, [{ uow: this, item }]);
  }

  /** Records an event of this change and runs its handlers now, in this transaction. */
  async emit<K extends EventType>(type: K, at: EventAt, payload: RoomEvents[K]): Promise<void> {
    const event: Emitted<K> = {
      type,
      chatRoomId: at.chatRoomId,
      userId: at.userId ?? null,
      messageId: at.messageId ?? null,
      recipientId: at.recipientId ?? null,
      room: at.room ?? null,
      payload,
    };
    this.events.push(event as Emitted);
    await this.handlers.run(this, event);
  }

  /** Runs `fn` once the change has committed (never if it rolls back), e.g. removing a file. */
  onCommit(fn: () => Promise<void>): void {
    this.afterCommit.push(fn);
  }
}
