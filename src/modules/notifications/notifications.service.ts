import type { AppContext } from '../../context.js';
import { notFound } from '../../errors.js';
import type { Emitted, RoomEvents } from '../events/events.types.js';
import type { UnitOfWork } from '../events/unit-of-work.js';
import { notificationsRepository as repo } from './notifications.repository.js';
import { notifyFor } from './notifications.rules.js';
import { notificationView, type NotificationView } from './notifications.view.js';

export const NOTIFICATIONS_PAGE_SIZE = 20;
const NO_NOTIFICATION = 'No such notification.';

/** Each user's own notifications. They are made only by the server (see notifications.rules.ts). */
export class NotificationsService {
  constructor(private readonly ctx: AppContext) {}

  /** A room event that notifies people (a message, a join, a reaction): written in its transaction. */
  async onEvent(uow: UnitOfWork, event: Emitted): Promise<void> {
    if (await this.toldRecently(uow, event)) return;
    await notifyFor(uow, event, { messageMaxMembers: this.ctx.config.largeRoomMembers });
  }

  /**
   * A person's own join of a room, or own leave, notifies its members at most once each per
   * NOTIFY_JOIN_LEAVE_WINDOW seconds (0 = every time), so joining and leaving over and over does
   * not flood every member. The events themselves still go to the room. Being added or removed
   * by someone else is always told.
   */
  private async toldRecently(uow: UnitOfWork, e: Emitted): Promise<boolean> {
    if (e.type !== 'member_joined' && e.type !== 'member_left') return false;
    const change = e.payload as RoomEvents['member_joined'];
    const windowSec = this.ctx.config.joinLeaveNotifyWindowSec;
    if (change.by !== change.user || windowSec <= 0) return false;
    const key = `told-${e.type}:${e.chatRoomId}:${change.user}`;
    if (await this.ctx.limiter.remembers(key)) return true;
    // Remembered once committed: a change rolled back (and run again) was never told.
    uow.onCommit(() => this.ctx.limiter.remember(key, windowSec));
    return false;
  }

  /** A deleted message's notifications go with it (those of its reactions follow the reactions). */
  async onMessageDeleted(uow: UnitOfWork, messageId: number): Promise<void> {
    await repo.deleteForMessage(uow.trx, messageId);
  }

  async list(userId: number, page: number, isRead?: boolean): Promise<{ count: number; results: NotificationView[] }> {
    const { count, rows } = await repo.page(this.ctx.db, userId, { isRead, offset: (page - 1) * NOTIFICATIONS_PAGE_SIZE, limit: NOTIFICATIONS_PAGE_SIZE });
    return { count, results: rows.map(notificationView) };
  }

  async get(userId: number, id: number): Promise<NotificationView> {
    const row = await repo.findOwn(this.ctx.db, userId, id);
    if (!row) throw notFound(NO_NOTIFICATION);
    return notificationView(row);
  }

  async setRead(userId: number, id: number, isRead: boolean): Promise<NotificationView> {
    const row = await repo.setRead(this.ctx.db, userId, id, isRead);
    if (!row) throw notFound(NO_NOTIFICATION);
    return notificationView(row);
  }

  markAllRead(userId: number): Promise<number> {
    return repo.markAllRead(this.ctx.db, userId);
  }

  async remove(userId: number, id: number): Promise<void> {
    if (!(await repo.deleteOwn(this.ctx.db, userId, id))) throw notFound(NO_NOTIFICATION);
  }
}
