import type { Updateable } from 'kysely';
import type { AppContext } from '../../context.js';
import { nowIso } from '../../context.js';
import type { UserRow, UsersTable } from '../../db/schema.js';
import { isUniqueViolation } from '../../db/dialect.js';
import { conflict, fieldErrors, forbidden, notFound, type FieldErrors } from '../../errors.js';
import { readImage } from '../../lib/images.js';
import { passwordProblems } from '../../lib/passwords.js';
import { newKey } from '../../lib/storage.js';
import type { AuthService } from '../auth/auth.service.js';
import { endMemberships, MembershipsMoved } from '../rooms/memberships.changes.js';
import { membershipsRepository } from '../rooms/memberships.repository.js';
import { usersRepository } from './users.repository.js';
import { displayText } from '../../lib/display-text.js';

export interface SignupInput {
  username: string;
  email: string;
  password: string;
  first_name?: string;
  last_name?: string;
  bio?: string;
  profile_picture?: unknown;
}

export type ProfilePatch = Partial<Omit<SignupInput, 'password'>>;

export const PAGE_SIZE = 20;

export class UsersService {
  constructor(
    private readonly ctx: AppContext,
    private readonly auth: AuthService,
  ) {}

  async signup(input: SignupInput): Promise<UserRow> {
    const errors: FieldErrors = {};
    const problems = passwordProblems(input.password, input);
    if (problems.length) errors.password = problems;
    await this.checkTaken(errors, input);
    if (Object.keys(errors).length) throw fieldErrors(errors);
    const picture = await this.storePicture(input.profile_picture);
    const passwordHash = await this.ctx.hasher.hash(input.password);
    try {
      return await usersRepository.insert(this.ctx.db, {
        username: input.username,
        email: input.email.trim(),
        password_hash: passwordHash,
        first_name: displayText(input.first_name ?? ''),
        last_name: displayText(input.last_name ?? ''),
        bio: input.bio ?? '',
        profile_picture: picture,
        date_joined: nowIso(),
      });
    } catch (err) {
      if (picture) await this.ctx.store.delete(picture);
      if (isUniqueViolation(err)) throw await this.takenError(input);
      throw err;
    }
  }

  async get(id: number): Promise<UserRow> {
    const user = await usersRepository.findActive(this.ctx.db, id);
    if (!user) throw notFound('No such user.');
    return user;
  }

  list(search: string | undefined, page: number) {
    return usersRepository.list(this.ctx.db, { search: search?.trim() || undefined, offset: (page - 1) * PAGE_SIZE, limit: PAGE_SIZE });
  }

  async update(actorId: number, id: number, patch: ProfilePatch): Promise<UserRow> {
    const current = await this.get(id);
    if (actorId !== id) throw forbidden('You can only change your own account.');
    const errors: FieldErrors = {};
    await this.checkTaken(errors, { ...patch, exceptId: id });
    if (Object.keys(errors).length) throw fieldErrors(errors);
    const values: Updateable<UsersTable> = {};
    for (const k of ['username', 'bio'] as const) if (patch[k] !== undefined) values[k] = patch[k];
    for (const k of ['first_name', 'last_name'] as const) if (patch[k] !== undefined) values[k] = displayText(patch[k]);
    if (patch.email !== undefined) values.email = patch.email.trim();
    if (patch.profile_picture !== undefined) values.profile_picture = patch.profile_picture === null || patch.profile_picture === '' ? null : await this.storePicture(patch.profile_picture);
    // An empty PATCH (or one whose fields were all unknown, hence removed) changes nothing: an
    // UPDATE with no SET clause is a syntax error.
    if (Object.keys(values).length === 0) return current;
    try {
      const updated = await usersRepository.update(this.ctx.db, id, values);
      if (values.profile_picture !== undefined && current.profile_picture) await this.ctx.store.delete(current.profile_picture);
      return updated;
    } catch (err) {
      if (values.profile_picture) await this.ctx.store.delete(values.profile_picture);
      if (isUniqueViolation(err)) throw await this.takenError(patch);
      throw err;
    }
  }

  /**
   * Scrubs the account (messages keep a sender id that now shows as a deleted user), ends its
   * memberships in the same transaction, as leaving does (each room gets `member_left`; a group it
   * owned passes to its longest-standing admin or member, a private room simply loses it), then
   * ends its sessions. No membership outlives the account, so it is never an heir, gets no
   * notifications and is not counted in member_count.
   */
  async deactivate(actorId: number, id: number): Promise<void> {
    const user = await this.get(id);
    if (actorId !== id) throw forbidden('You can only delete your own account.');
    const now = nowIso();
    const scrubbed = {
      // Placeholders no signup can take (the username and email rules refuse spaces).
      username: `deleted user ${id}`,
      email: `deleted user ${id}`,
      password_hash: '!',
      first_name: '',
      last_name: '',
      bio: '',
      profile_picture: null,
      is_active: 0,
      deleted_at: now,
    };
    // The rooms to lock: those of its memberships now. One joined meanwhile is found under the
    // locks (the account's row is written first, so no join can follow): then again with it.
    let rooms = (await membershipsRepository.listActiveForUser(this.ctx.db, id)).map((m) => m.chat_room_id);
    for (let attempt = 1; ; attempt++) {
      const locked = rooms;
      try {
        await this.ctx.writer.run(locked, async (uow) => {
          await usersRepository.update(uow.trx, id, scrubbed);
          await endMemberships(uow, { userId: id, username: scrubbed.username, locked, now });
        });
        break;
      } catch (err) {
        if (!(err instanceof MembershipsMoved)) throw err;
        if (attempt >= 5) throw conflict('Your memberships kept changing while the account was being deleted: try again.');
        rooms = [...new Set([...locked, ...err.rooms])];
      }
    }
    await this.auth.revoke(id, { reason: 'account_deleted' });
    if (user.profile_picture) await this.ctx.store.delete(user.profile_picture);
  }

  private async storePicture(value: unknown): Promise<string | null> {
    if (value === undefined || value === null || value === '') return null;
    const image = await readImage('profile_picture', value, this.ctx.config.avatarMaxBytes);
    const key = newKey('avatars', image.ext);
    await this.ctx.store.put(key, image.data);
    return key;
  }

  private async checkTaken(errors: FieldErrors, f: { username?: string; email?: string; exceptId?: number }) {
    const taken = await usersRepository.taken(this.ctx.db, f);
    if (taken.username) errors.username = ['A user with that username already exists.'];
    if (taken.email) errors.email = ['A user with that email already exists.'];
  }

  private async takenError(f: { username?: string; email?: string }) {
    const errors: FieldErrors = {};
    await this.checkTaken(errors, f);
    return fieldErrors(Object.keys(errors).length ? errors : { username: ['A user with that username or email already exists.'] });
  }
}
