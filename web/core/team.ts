// Running a group: roles, removing and banning members, and invite links. Each change shows in
// the store at once; the server's events (member_role_changed, member_left, member_banned,
// member_unbanned) bring the same change to every other member and tab.
import type { Api } from './http.js';
import type { ChatStore } from './store.js';
import type { Ban, Invite, InvitePreview, Membership, Page, Role } from './types.js';

/** Every item of a list route, paginated (`{count, next, results}`) or not (an array). */
export async function allPages<T>(api: Api, path: string): Promise<T[]> {
  const first = await api.get<T[] | Page<T>>(path);
  if (Array.isArray(first)) return first;
  const items = [...first.results];
  for (let page = 2, next = first.next; next; page++) {
    const more = await api.get<Page<T>>(path, { page });
    items.push(...more.results);
    next = more.next;
  }
  return items;
}

export class Team {
  constructor(
    private readonly api: Api,
    private readonly store: ChatStore,
  ) {}

  /** The owner only. `owner` hands the group over: you become an admin. */
  async setRole(roomId: number, userId: number, role: Role): Promise<void> {
    await this.api.patch(`/api/chat_rooms/${roomId}/members/${userId}/`, { role });
    this.store.setRole(roomId, userId, role);
    const me = this.store.me.value;
    if (role === 'owner' && me !== null && me !== userId) this.store.setRole(roomId, me, 'admin');
  }

  /** Removes a member (the owner, or an admin for plain members); they may join again. */
  async remove(roomId: number, userId: number): Promise<void> {
    await this.api.delete(`/api/chat_rooms/${roomId}/members/${userId}/`);
    this.store.updateMembers(roomId, (list) => list.filter((m) => m.user !== userId));
  }

  /** Removes and bans a user: they cannot come back (join, be added, use an invite) until unbanned. */
  async ban(roomId: number, userId: number, reason = ''): Promise<Ban> {
    const ban = await this.api.post<Ban>(`/api/chat_rooms/${roomId}/bans/`, { user: userId, ...(reason.trim() ? { reason: reason.trim() } : {}) });
    this.store.updateMembers(roomId, (list) => list.filter((m) => m.user !== userId));
    this.store.updateBans(roomId, (list) => [ban, ...list.filter((b) => b.user !== userId)]);
    return ban;
  }

  /** A group's bans, newest first (owner and admins); they then follow the room's events. */
  async loadBans(roomId: number): Promise<Ban[]> {
    const bans = await allPages<Ban>(this.api, `/api/chat_rooms/${roomId}/bans/`);
    this.store.bansOf(roomId).value = bans;
    this.store.learnUsernames(bans.map((b) => [b.user, b.username]));
    return bans;
  }

  async unban(roomId: number, userId: number): Promise<void> {
    await this.api.delete(`/api/chat_rooms/${roomId}/bans/${userId}/`);
    this.store.updateBans(roomId, (list) => list.filter((b) => b.user !== userId));
  }

  /** The group's invites that can still be used (owner and admins). */
  invites(roomId: number): Promise<Invite[]> {
    return allPages<Invite>(this.api, `/api/chat_rooms/${roomId}/invites/`);
  }

  /** A new invite code; `expiresIn` in seconds. Without limits it works until revoked. */
  createInvite(roomId: number, opts: { maxUses?: number | null; expiresIn?: number | null } = {}): Promise<Invite> {
    const body: Record<string, number> = {};
    if (opts.maxUses) body.max_uses = opts.maxUses;
    if (opts.expiresIn) body.expires_in = opts.expiresIn;
    return this.api.post<Invite>(`/api/chat_rooms/${roomId}/invites/`, body);
  }

  async revokeInvite(roomId: number, code: string): Promise<void> {
    await this.api.delete(`/api/chat_rooms/${roomId}/invites/${encodeURIComponent(code)}/`);
  }

  /** The group an invite leads to (404 when it cannot be used, 403 when you are banned). */
  invite(code: string): Promise<InvitePreview> {
    return this.api.get<InvitePreview>(`/api/invites/${encodeURIComponent(code)}/`);
  }

  /** Joins the invite's group; the conversation is in the list when this resolves. */
  async acceptInvite(code: string): Promise<Membership> {
    const m = await this.api.post<Membership>(`/api/invites/${encodeURIComponent(code)}/accept/`);
    this.store.putConversation(m);
    return m;
  }
}

/** The link to an invite on this web client. */
export function inviteLink(origin: string, code: string): string {
  return `${origin}/#/invite/${encodeURIComponent(code)}`;
}
