import type { AppContext } from '../../context.js';
import type { UserRow } from '../../db/schema.js';
import { badRequest, notFound } from '../../errors.js';
import type { AuthService } from '../auth/auth.service.js';
import type { MessagesService } from '../messages/messages.service.js';
import { usersRepository } from '../users/users.repository.js';
import { PAGE_SIZE } from '../users/users.service.js';
import { statsRepository } from './stats.repository.js';

const NO_USER = 'No such user.';

/** What staff do (the routes check that the caller is staff; see staff.guard.ts). */
export class AdminService {
  constructor(
    private readonly ctx: AppContext,
    private readonly auth: AuthService,
    private readonly messages: MessagesService,
  ) {}

  listUsers(search: string | undefined, page: number) {
    return usersRepository.listUndeleted(this.ctx.db, { search: search?.trim() || undefined, offset: (page - 1) * PAGE_SIZE, limit: PAGE_SIZE });
  }

  /**
   * Turns the account off first, then revokes its sessions: a refresh or a log-in racing this
   * either fails (the account is already off) or made a session that the revocation then ends.
   * The revocation closes the user's sockets on every instance (4401).
   */
  async deactivate(staffId: number, id: number): Promise<UserRow> {
    if (id === staffId) throw badRequest('You cannot deactivate your own account.', 'own_account');
    const user = await usersRepository.setActive(this.ctx.db, id, false);
    if (!user) throw notFound(NO_USER);
    await this.auth.revoke(id, { reason: 'deactivated' });
    return user;
  }

  async reactivate(id: number): Promise<UserRow> {
    const user = await usersRepository.setActive(this.ctx.db, id, true);
    if (!user) throw notFound(NO_USER);
    return user;
  }

  deleteMessage(staffId: number, id: number): Promise<void> {
    return this.messages.remove(staffId, id, { asStaff: true });
  }

  async stats(): Promise<{ users: number; rooms: number; messages: number; online: number }> {
    const [users, rooms, messages] = await Promise.all([statsRepository.users(this.ctx.db), statsRepository.rooms(this.ctx.db), statsRepository.messages(this.ctx.db)]);
    // A deactivated or deleted account has no sessions, so no socket: everyone online is active.
    return { users, rooms, messages, online: this.ctx.presence.onlineCount() };
  }
}
