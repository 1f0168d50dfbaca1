// The client's state, as signals, and how server events change it. No I/O: the client
// (client.ts) loads data into it and feeds it the socket's events.
import { computed, signal, type Signal } from '@preact/signals-core';
import type { Api } from './http.js';
import { Timeline } from './timeline.js';
import type { Ban, Member, Membership, Message, Notification, RoomEvent, ServerEvent } from './types.js';

const TYPING_MS = 6_000;

/** What a conversation is called: a group's name, or the other people's usernames. */
export function displayName(m: Pick<Membership, 'room_type' | 'room_name' | 'name'>): string {
  if (m.room_type === 'group') return m.room_name || m.name || 'Unnamed group';
  return m.name || 'Just you';
}

/** When a conversation last saw activity (its last message, else when you joined). */
export function activityOf(m: Membership): string {
  return m.last_message?.created_at ?? m.joined_at;
}

/** Why a conversation left your list without you leaving it: you were removed (or banned) by `by`. */
export interface Removal {
  /** What the conversation was called. */
  name: string;
  by: number;
  banned: boolean;
}

export interface StoreHooks {
  /** Something changed that the loaded state cannot absorb: reload that conversation, or (no id) the list. */
  conversationsStale(roomId?: number): void;
  /** A message from someone else in a room you are looking at: mark it read. */
  readWhileViewing(roomId: number, messageId: number): void;
  /** A notification arrived (the UI may show it on the desktop). */
  notified?(n: Notification): void;
  /** Messages as loaded into a history, made ready to show (an encrypted room's are decrypted). */
  decode?(messages: Message[]): Promise<Message[]>;
}

export class ChatStore {
  readonly me = signal<number | null>(null);
  /** By room id. */
  readonly conversations = signal<Map<number, Membership>>(new Map());
  readonly conversationsLoaded = signal(false);
  /** Most recent activity first. */
  readonly conversationList = computed(() => [...this.conversations.value.values()].sort((a, b) => (activityOf(a) < activityOf(b) ? 1 : activityOf(a) > activityOf(b) ? -1 : b.id - a.id)));
  readonly unreadTotal = computed(() => {
    let n = 0;
    for (const m of this.conversations.value.values()) n += m.unread_count;
    return n;
  });
  /** By room id: the members, once loaded. */
  readonly members = new Map<number, Signal<Member[] | null>>();
  /** By room id: its bans, once loaded (owners and admins). */
  readonly bans = new Map<number, Signal<Ban[] | null>>();
  /** By room id: the conversations you were removed or banned from while this session ran. */
  readonly removed = signal<Map<number, Removal>>(new Map());
  /** Usernames by user id, as far as known. */
  readonly usernames = signal<Map<number, string>>(new Map());
  readonly presence = signal<Map<number, 'online' | 'offline'>>(new Map());
  /** By room id: who is typing, until when (ms). */
  readonly typing = signal<Map<number, Map<number, number>>>(new Map());
  readonly notifications = signal<Notification[]>([]);
  readonly unreadNotifications = signal(0);
  /** The room on screen and whether its newest messages are in view (then new ones count as read). */
  readonly viewing = signal<{ roomId: number; atLatest: boolean } | null>(null);
  /** By room id: its pinned messages, newest pin first, once loaded. */
  readonly pins = new Map<number, Signal<Message[] | null>>();
  private readonly timelines = new Map<number, Timeline>();
  /** Threads opened, by root id. */
  private readonly threads = new Map<number, Timeline>();

  constructor(private readonly api: Api, private readonly hooks: StoreHooks) {}

  timeline(roomId: number): Timeline {
    let t = this.timelines.get(roomId);
    if (!t) {
      t = new Timeline(this.api, roomId, { decode: this.hooks.decode });
      this.timelines.set(roomId, t);
    }
    return t;
  }

  /** The replies of a thread (and its root), by the root's id. */
  thread(rootId: number, roomId: number): Timeline {
    let t = this.threads.get(rootId);
    if (!t) {
      t = new Timeline(this.api, roomId, { thread: rootId, decode: this.hooks.decode });
      this.threads.set(rootId, t);
    }
    return t;
  }

  /** Where a message is listed: its thread's replies, or its room's top-level messages. */
  timelineOf(m: Pick<Message, 'chat_room' | 'thread'>): Timeline {
    return m.thread ? this.thread(m.thread, m.chat_room) : this.timeline(m.chat_room);
  }

  /** A new or changed message into every loaded list that shows it: its timeline, a thread's root, the pins. */
  putMessage(m: Message): void {
    if (m.thread) this.threads.get(m.thread)?.upsert(m);
    else {
      this.timelines.get(m.chat_room)?.upsert(m);
      this.threads.get(m.id)?.setRoot(m);
    }
    this.updatePins(m);
  }

  /** A message's pin (or its change) in its room's loaded pins. */
  updatePins(m: Message): void {
    const pins = this.pins.get(m.chat_room);
    if (pins?.value) {
      const rest = pins.value.filter((p) => p.id !== m.id);
      const pinned = !!m.pinned_at && !m.is_deleted;
      const was = rest.length !== pins.value.length;
      if (pinned && was) pins.value = pins.value.map((p) => (p.id === m.id ? m : p));
      else if (pinned) pins.value = [m, ...rest].sort((a, b) => (a.pinned_at! < b.pinned_at! ? 1 : a.pinned_at! > b.pinned_at! ? -1 : b.id - a.id));
      else if (was) pins.value = rest;
    }
  }

  pinsOf(roomId: number): Signal<Message[] | null> {
    let s = this.pins.get(roomId);
    if (!s) {
      s = signal<Message[] | null>(null);
      this.pins.set(roomId, s);
    }
    return s;
  }

  membersOf(roomId: number): Signal<Member[] | null> {
    let s = this.members.get(roomId);
    if (!s) {
      s = signal<Member[] | null>(null);
      this.members.set(roomId, s);
    }
    return s;
  }

  bansOf(roomId: number): Signal<Ban[] | null> {
    let s = this.bans.get(roomId);
    if (!s) {
      s = signal<Ban[] | null>(null);
      this.bans.set(roomId, s);
    }
    return s;
  }

  /** A change to the loaded members of a room (nothing when they are not loaded). */
  updateMembers(roomId: number, change: (members: Member[]) => Member[]): void {
    const s = this.members.get(roomId);
    if (s?.value) s.value = change(s.value);
  }

  /** A change to the loaded bans of a room (nothing when they are not loaded). */
  updateBans(roomId: number, change: (bans: Ban[]) => Ban[]): void {
    const s = this.bans.get(roomId);
    if (s?.value) s.value = change(s.value);
  }

  /** A member's new role, in the members list and (yours) on the conversation. */
  setRole(roomId: number, userId: number, role: Member['role']): void {
    this.updateMembers(roomId, (list) => list.map((x) => (x.user === userId ? { ...x, role } : x)));
    if (userId === this.me.value) this.patchConversation(roomId, { role });
  }

  setConversations(list: Membership[]): void {
    this.conversations.value = new Map(list.map((m) => [m.chat_room, m]));
    this.conversationsLoaded.value = true;
    this.learnUsernames(list.filter((m) => m.peer !== null && m.name).map((m) => [m.peer!, m.name]));
  }

  putConversation(m: Membership): void {
    const next = new Map(this.conversations.value);
    next.set(m.chat_room, m);
    this.conversations.value = next;
  }

  patchConversation(roomId: number, change: Partial<Membership>): void {
    const current = this.conversations.value.get(roomId);
    if (!current) return;
    const next = new Map(this.conversations.value);
    next.set(roomId, { ...current, ...change });
    this.conversations.value = next;
  }

  dropConversation(roomId: number): void {
    if (!this.conversations.value.has(roomId)) return;
    const next = new Map(this.conversations.value);
    next.delete(roomId);
    this.conversations.value = next;
    this.timelines.delete(roomId);
    for (const [root, t] of this.threads) if (t.roomId === roomId) this.threads.delete(root);
    this.members.delete(roomId);
    this.bans.delete(roomId);
    this.pins.delete(roomId);
  }

  /** The histories loaded so far (rooms' and threads'). */
  loadedTimelines(): Timeline[] {
    return [...this.timelines.values(), ...this.threads.values()];
  }

  /** Back to nothing loaded (logged out, or another user): nothing of the last session stays in memory. */
  reset(): void {
    this.me.value = null;
    this.conversations.value = new Map();
    this.conversationsLoaded.value = false;
    this.timelines.clear();
    this.threads.clear();
    this.members.clear();
    this.bans.clear();
    this.pins.clear();
    this.removed.value = new Map();
    this.usernames.value = new Map();
    this.presence.value = new Map();
    this.typing.value = new Map();
    this.notifications.value = [];
    this.unreadNotifications.value = 0;
    this.viewing.value = null;
  }

  learnUsernames(pairs: Iterable<[number, string]>): void {
    let next: Map<number, string> | null = null;
    for (const [id, name] of pairs) {
      if (this.usernames.value.get(id) === name) continue;
      next ??= new Map(this.usernames.value);
      next.set(id, name);
    }
    if (next) this.usernames.value = next;
  }

  setMembers(roomId: number, members: Member[]): void {
    this.membersOf(roomId).value = members;
    this.learnUsernames(members.map((m) => [m.user, m.username]));
    const statuses = members.filter((m) => m.status).map((m) => [m.user, m.status!] as const);
    if (statuses.length) this.setPresence(statuses);
  }

  setPresence(entries: Iterable<readonly [number, 'online' | 'offline']>): void {
    const next = new Map(this.presence.value);
    for (const [user, status] of entries) next.set(user, status);
    this.presence.value = next;
  }

  /** Who is typing in a room now (user ids), excluding yourself. */
  typers(roomId: number): number[] {
    const now = Date.now();
    return [...(this.typing.value.get(roomId) ?? new Map<number, number>()).entries()].filter(([u, until]) => until > now && u !== this.me.value).map(([u]) => u);
  }

  /** Drops typing entries that have run out. */
  expireTyping(now = Date.now()): void {
    let changed = false;
    const next = new Map<number, Map<number, number>>();
    for (const [room, users] of this.typing.value) {
      const live = new Map([...users].filter(([, until]) => until > now));
      if (live.size !== users.size) changed = true;
      if (live.size) next.set(room, live);
    }
    if (changed) this.typing.value = next;
  }

  private stopTyping(roomId: number, userId: number) {
    const users = this.typing.value.get(roomId);
    if (!users?.has(userId)) return;
    const next = new Map(this.typing.value);
    const left = new Map(users);
    left.delete(userId);
    next.set(roomId, left);
    this.typing.value = next;
  }

  /** Applies one server event. */
  apply(event: ServerEvent): void {
    switch (event.type) {
      case 'presence':
        this.setPresence([[event.user, event.status]]);
        return;
      case 'typing': {
        if (event.user === this.me.value) return;
        const next = new Map(this.typing.value);
        const users = new Map(next.get(event.chat_room) ?? []);
        users.set(event.user, Date.now() + TYPING_MS);
        next.set(event.chat_room, users);
        this.typing.value = next;
        return;
      }
      case 'notification':
        this.addNotification(event.notification);
        return;
      case 'ready':
      case 'pong':
      case 'resync_required':
      case 'error':
      case 'to_device':
        return;
      default:
        this.applyRoomEvent(event);
    }
  }

  /**
   * A new message, from the socket or as the answer to your own send (either may come first):
   * into its loaded history (a thread reply into its thread only), and onto its conversation
   * (last message, unread count, read position).
   */
  addMessage(m: Message): void {
    const roomId = m.chat_room;
    this.stopTyping(roomId, m.sender);
    this.putMessage(m);
    const conv = this.conversations.value.get(roomId);
    if (!conv) {
      this.hooks.conversationsStale();
      return;
    }
    const change: Partial<Membership> = {};
    // Already in the conversation as loaded: a REST load made after it was sent counts it, and the
    // same message can then also arrive live (or be replayed on a resume). Counted once.
    const known = !!conv.last_message && conv.last_message.id >= m.id;
    if (!conv.last_message || conv.last_message.id <= m.id) change.last_message = m;
    if (m.sender === this.me.value) {
      change.unread_count = 0;
      change.last_seen_message = Math.max(conv.last_seen_message ?? 0, m.id);
    } else {
      const v = this.viewing.value;
      if (v && v.roomId === roomId && v.atLatest) this.hooks.readWhileViewing(roomId, m.id);
      else if (!known) change.unread_count = conv.unread_count + 1;
    }
    this.patchConversation(roomId, change);
  }

  addNotification(n: Notification): void {
    if (this.notifications.value.some((x) => x.id === n.id)) return;
    this.notifications.value = [n, ...this.notifications.value];
    if (!n.is_read) this.unreadNotifications.value += 1;
    this.hooks.notified?.(n);
  }

  private applyRoomEvent(event: RoomEvent): void {
    const roomId = event.chat_room;
    const me = this.me.value;
    switch (event.type) {
      case 'new_message':
        this.addMessage(event.message);
        return;
      case 'message_updated':
      case 'message_deleted':
      case 'message_pinned':
      case 'message_unpinned': {
        const m = event.message;
        this.putMessage(m);
        const conv = this.conversations.value.get(roomId);
        if (conv?.last_message?.id === m.id) this.patchConversation(roomId, { last_message: m });
        // A deleted unread message no longer counts: the server has the number.
        if (event.type === 'message_deleted' && conv && m.sender !== me && m.id > (conv.last_seen_message ?? 0) && conv.unread_count > 0) this.hooks.conversationsStale(roomId);
        return;
      }
      case 'reaction':
        // The event names the message only: whichever list of the room holds it.
        this.timelines.get(roomId)?.applyReaction(event.reaction, event.action);
        for (const t of this.threads.values()) if (t.roomId === roomId) t.applyReaction(event.reaction, event.action);
        return;
      case 'read': {
        if (event.user === me) {
          const conv = this.conversations.value.get(roomId);
          if (!conv) return;
          const newest = conv.last_message?.id ?? 0;
          const seen = Math.max(conv.last_seen_message ?? 0, event.message);
          this.patchConversation(roomId, { last_seen_message: seen, ...(seen >= newest ? { unread_count: 0, is_read: true } : {}) });
          if (seen < newest) this.hooks.conversationsStale(roomId);
          return;
        }
        const members = this.members.get(roomId);
        if (members?.value) {
          members.value = members.value.map((x) => (x.user === event.user ? { ...x, last_seen_message: Math.max(x.last_seen_message ?? 0, event.message) } : x));
        }
        return;
      }
      case 'member_joined': {
        this.learnUsernames([[event.user, event.username]]);
        if (event.user === me) {
          this.hooks.conversationsStale();
          return;
        }
        const members = this.members.get(roomId);
        if (members?.value && !members.value.some((x) => x.user === event.user)) {
          members.value = [...members.value, { user: event.user, username: event.username, role: 'member', joined_at: event.created_at, last_seen_message: null }];
        }
        this.hooks.conversationsStale(roomId);
        return;
      }
      case 'member_left': {
        if (event.user === me) {
          const conv = this.conversations.value.get(roomId);
          // Removed by someone else: the conversation's view says so (leaving, in another tab, needs no word).
          if (event.kicked && conv) this.removed.value = new Map(this.removed.value).set(roomId, { name: displayName(conv), by: event.by, banned: !!event.banned });
          this.dropConversation(roomId);
          return;
        }
        this.updateMembers(roomId, (list) => list.filter((x) => x.user !== event.user));
        this.stopTyping(roomId, event.user);
        this.hooks.conversationsStale(roomId);
        return;
      }
      case 'member_role_changed':
        this.setRole(roomId, event.user, event.role);
        return;
      case 'member_banned': {
        this.learnUsernames([[event.user, event.username]]);
        this.updateMembers(roomId, (list) => list.filter((x) => x.user !== event.user));
        const ban: Ban = { user: event.user, username: event.username, reason: event.reason, banned_by: event.by, created_at: event.created_at };
        this.updateBans(roomId, (list) => [ban, ...list.filter((b) => b.user !== event.user)]);
        return;
      }
      case 'member_unbanned':
        this.updateBans(roomId, (list) => list.filter((b) => b.user !== event.user));
        return;
      case 'room_created':
        this.hooks.conversationsStale();
        return;
      case 'room_updated': {
        this.patchConversation(roomId, { room_name: event.room.name, ...(event.room.is_encrypted ? { is_encrypted: true } : {}) });
        return;
      }
      case 'room_deleted':
        this.dropConversation(roomId);
        return;
    }
  }
}
