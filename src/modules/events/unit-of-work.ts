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

export class UnitOfWork {
  /** Emitted so far, in order; appended to the log when the work returns. */
  readonly events: Emitted[] = [];
  readonly afterCommit: Array<() => Promise<void>> = [];

  constructor(
    /** The transaction: every read and write of the change goes through it. */
    readonly trx: Db,
    private readonly handlers: EventHandlers,
  ) {}

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
