// The chat client: a session, the REST API, the sockets, the outbox and the store, wired
// together. It is what the web client is built on, and the JavaScript SDK for other programs:
//
//   const chat = new ChatClient({ baseUrl: 'http://127.0.0.1:8000', mode: 'token', WebSocket });
//   await chat.login('ada@example.com', '…');
//   chat.store.conversationList.value;                    // signals: read, or subscribe()
//   chat.send(roomId, 'Hello');                           // queued, sent once, even across reconnects
import { computed, effect, signal } from '@preact/signals-core';
import { Admin } from './admin.js';
import { Drafts } from './drafts.js';
import { Encryption, safeMime, type KeyStoreFactory, type SealedBody } from './encryption.js';
import { ApiError } from './errors.js';
import { SignedUrls, fileTypeOf, formatBytes } from './files.js';
import { Api } from './http.js';
import { Outbox, memoryStorage, type StorageLike } from './outbox.js';
import { Session, type SignupInput } from './session.js';
import { EventSocket, type SocketFactory } from './socket.js';
import { ChatStore, displayName } from './store.js';
import { Team, allPages } from './team.js';
import type { Timeline } from './timeline.js';
import type { AttachmentDetail, Member, Membership, Message, Notification, Page, Reaction, ReactionType, Room, SearchResult, ServerConfig, ServerEvent, User } from './types.js';

export interface ChatClientOptions {
  /** '' (default) for a page served by the chat server; otherwise `http(s)://host:port`. */
  baseUrl?: string;
  /** 'cookie' (browsers: the refresh token in an HttpOnly cookie) or 'token' (other programs). */
  mode?: 'cookie' | 'token';
  fetch?: typeof fetch;
  /** Needed where there is no global WebSocket (Node 20: the `ws` package). */
  WebSocket?: SocketFactory;
  /** Drafts (localStorage in browsers). */
  storage?: StorageLike;
  /** The outbox (sessionStorage in browsers: kept across a reload of the tab). */
  tabStorage?: StorageLike;
  /** Prefix of storage keys, tab channels and locks. */
  name?: string;
  /** Socket keep-alive (tests shorten it). */
  pingEveryMs?: number;
  /**
   * Where this device's end-to-end encryption keys live, per signed-in user. Browsers: IndexedDB
   * (the default); elsewhere pass one (e.g. a MemoryStore), or nothing: encrypted rooms then
   * cannot be read or written. false: no encryption even in a browser.
   */
  keyStore?: KeyStoreFactory | false;
}

/** The default key store: IndexedDB where there is one (the store's code comes with the engine's chunk). */
function defaultKeyStore(name: string): KeyStoreFactory | null {
  if (typeof indexedDB === 'undefined') return null;
  return async (userId) => (await import('./e2ee/store.js')).IndexedDbStore.open(`${name}:e2ee:${userId}`);
}

const TYPING_EVERY_MS = 3_000;

/** A message of ours in an encrypted room as the server answered it, shown as we wrote it. */
function ownMessage(m: Message, body: SealedBody): Message {
  return { ...m, content: body.body, e2ee: { state: 'decrypted', ciphertext: m.content, ...(body.file ? { file: body.file } : {}) } };
}

export class ChatClient {
  readonly api: Api;
  readonly session: Session;
  readonly store: ChatStore;
  readonly socket: EventSocket;
  readonly presenceSocket: EventSocket;
  /** Roles, removals, bans and invites of groups. */
  readonly team: Team;
  /** Staff tools (403 for everyone else). */
  readonly admin: Admin;
  /** End-to-end encrypted rooms: this browser's device, decrypting, identity warnings. */
  readonly encryption: Encryption;
  readonly config = signal<ServerConfig | null>(null);
  /** The outbox of the logged-in user (null while logged out). */
  readonly outbox = signal<Outbox | null>(null);
  /** 'online' once the event socket is live; anything else means events may be late. */
  readonly connection = computed(() => this.socket.state.value);
  private readonly storage: StorageLike;
  private readonly tabStorage: StorageLike;
  private readonly name: string;
  private readonly lastTyping = new Map<number, number>();
  /** Users whose name was asked for (once per login). */
  private readonly namesAsked = new Set<number>();
  private readonly signedUrls: SignedUrls;
  private readonly fetchImpl: typeof fetch | null;
  private readonly drafts: Drafts;
  private staleTimer: ReturnType<typeof setTimeout> | null = null;
  private staleRooms = new Set<number>();
  private staleAll = false;
  private typingTimer: ReturnType<typeof setInterval> | null = null;
  private started = false;
  private starting: Promise<void> | null = null;
  private stopOutboxFlush: (() => void) | null = null;
  /** Events waiting for an earlier one to be decrypted (events apply in order). */
  private eventQueue: Promise<void> | null = null;
  /** Counts stops: an event decrypted after a logout is not applied to what follows. */
  private sessions = 0;

  constructor(opts: ChatClientOptions = {}) {
    const browser = typeof document !== 'undefined';
    this.name = opts.name ?? 'chat';
    this.api = new Api({ baseUrl: opts.baseUrl ?? '', fetch: opts.fetch, credentials: 'same-origin' });
    this.fetchImpl = opts.fetch ?? null;
    this.session = new Session(this.api, { mode: opts.mode ?? (browser ? 'cookie' : 'token'), name: this.name });
    this.storage = opts.storage ?? memoryStorage();
    this.tabStorage = opts.tabStorage ?? memoryStorage();
    this.drafts = new Drafts(this.storage, this.name, () => this.store.me.value);
    this.signedUrls = new SignedUrls(this.api);
    this.store = new ChatStore(this.api, {
      conversationsStale: (roomId) => this.markStale(roomId),
      readWhileViewing: (roomId, messageId) => this.markRead(roomId, messageId),
      notified: (n) => {
        // A message notification for the conversation being read is read already.
        const v = this.store.viewing.value;
        if (n.type === 'message' && !n.is_read && v?.atLatest && v.roomId === n.chat_room) void this.markNotificationRead(n).catch(() => undefined);
        else this.notified.forEach((fn) => fn(n));
      },
      decode: (messages) => this.encryption.decode(messages),
    });
    this.encryption = new Encryption(
      this.api,
      this.store,
      opts.keyStore === false ? null : (opts.keyStore ?? defaultKeyStore(this.name)),
      () => this.socket.reconnectNow(),
      () => this.socket.state.value === 'online',
    );
    this.team = new Team(this.api, this.store);
    this.admin = new Admin(this.api);
    const common = { api: this.api, session: this.session, WebSocket: opts.WebSocket, pingEveryMs: opts.pingEveryMs };
    this.socket = new EventSocket({
      ...common,
      endpoint: 'general_updates',
      resume: true,
      onEvent: (e) => this.onEvent(e),
      query: () => this.encryption.socketQuery(),
      onDeviceRemoved: (deviceId) => this.encryption.deviceRemoved(deviceId),
      onReady: (resumed) => {
        this.encryption.onReady();
        void this.outbox.value?.flush();
        // Without a replay (the first connection), what was loaded before the socket listened may
        // have missed a change: load it again now that nothing more can be missed.
        if (!resumed) void this.resync();
        else if (this.staleAll || this.staleRooms.size) this.markStale();
      },
      onResync: () => void this.resync(),
    });
    this.presenceSocket = new EventSocket({
      ...common,
      endpoint: 'user_status',
      resume: false,
      onEvent: (e) => this.store.apply(e),
      // The server sends who is online now; whoever it does not name is offline.
      onConnecting: () => (this.store.presence.value = new Map()),
    });
    // A logout also wipes what this device kept for the user (drafts, unsent messages); an expired session keeps them for the next log-in.
    this.disposers.push(this.session.onEnded((reason) => this.stop(true, reason === 'logout')));
    // Logged in by another tab of this browser (its token arrived over the tab channel).
    this.disposers.push(
      effect(() => {
        if (this.session.status.value === 'authenticated' && !this.started) void this.start();
      }),
    );
  }

  private readonly disposers: Array<() => void> = [];

  private onEvent(e: ServerEvent) {
    // A message of ours that the outbox still holds has arrived: it is stored, whatever its answer did.
    if (e.type === 'new_message' && e.message.client_id && e.message.sender === this.store.me.value) this.outbox.value?.discard(e.message.client_id);
    this.encryption.onEvent(e);
    if (e.type === 'to_device') return;
    // A message of an encrypted room is decrypted before it is shown; the events after it wait their turn.
    if (!this.eventQueue && !this.encryption.eventNeedsDecoding(e)) return this.applyEvent(e);
    const session = this.sessions;
    const run = (this.eventQueue ?? Promise.resolve())
      .then(() => this.encryption.decodeEvent(e))
      .then((decoded) => {
        if (this.sessions === session) this.applyEvent(decoded);
      });
    const queued: Promise<void> = run.catch(() => undefined).then(() => {
      if (this.eventQueue === queued) this.eventQueue = null;
    });
    this.eventQueue = queued;
  }

  private applyEvent(e: ServerEvent) {
    const wasEncrypted = e.type === 'room_updated' && this.encryption.isEncryptedRoom(e.chat_room);
    this.store.apply(e);
    if (e.type === 'room_updated' && e.room.is_encrypted && !wasEncrypted) void this.encryption.roomEncrypted(e.chat_room);
  }

  private readonly notified = new Set<(n: Notification) => void>();
  /** Called for each notification that arrives live. */
  onNotification(fn: (n: Notification) => void): () => void {
    this.notified.add(fn);
    return () => this.notified.delete(fn);
  }

  get me(): User | null {
    return this.session.user.value;
  }

  // ---- session ----

  /**
   * Resumes an existing session (the browser's cookie); the user, or null. A browser that has
   * not logged in since its storage was cleared is not asked (the answer would be a 401).
   */
  async restore(): Promise<User | null> {
    if (!this.storage.getItem(this.sessionHintKey)) {
      this.session.status.value = 'anonymous';
      return null;
    }
    const user = await this.session.restore();
    if (user) await this.start();
    else this.storage.removeItem(this.sessionHintKey);
    return user;
  }

  private get sessionHintKey() {
    return `${this.name}:has-session`;
  }

  async login(email: string, password: string): Promise<User> {
    const user = await this.session.login(email, password);
    await this.start();
    return user;
  }

  async signup(input: SignupInput): Promise<User> {
    const user = await this.session.signup(input);
    await this.start();
    return user;
  }

  async logout(): Promise<void> {
    await this.session.logout();
  }

  /** Loads what the screens need and opens the sockets (once per login). */
  private start(): Promise<void> {
    if (!this.started) {
      this.started = true;
      this.starting = this.begin();
    }
    return this.starting!;
  }

  private async begin(): Promise<void> {
    const me = this.session.user.value!;
    this.storage.setItem(this.sessionHintKey, '1');
    this.store.me.value = me.id;
    this.store.learnUsernames([[me.id, me.username]]);
    this.encryption.start(me.id);
    const outbox = new Outbox(
      this.api,
      this.tabStorage,
      `${this.name}:outbox:${me.id}`,
      // Ours in an encrypted room: shown as written (the event that follows is decrypted the same).
      (message, item) => this.store.addMessage(item.wire ? ownMessage(message, { body: item.content }) : message),
      (item) => (item.encrypted || this.encryption.isEncryptedRoom(item.chat_room) ? this.encryption.seal(item.chat_room, { body: item.content }) : Promise.resolve(null)),
    );
    this.outbox.value = outbox;
    this.socket.start();
    this.presenceSocket.start();
    this.typingTimer = setInterval(() => this.store.expireTyping(), 1_000);
    (this.typingTimer as { unref?: () => void }).unref?.();
    // A flush whenever the connection comes back (the socket also flushes when it is ready).
    this.stopOutboxFlush = effect(() => {
      if (this.socket.state.value === 'online') void outbox.flush();
    });
    await Promise.all([
      // Failing here (offline) is not fatal: the list is loaded again when the socket is ready.
      this.refreshConversations().catch(() => (this.staleAll = true)),
      this.loadNotifications().catch(() => undefined),
      this.loadConfig().catch(() => undefined),
    ]);
  }

  /**
   * `forget`: the session is over (not just this client), so the next page load does not try to
   * resume it. `wipe`: the user logged out, so their drafts and unsent messages go too.
   */
  private stop(forget: boolean, wipe = false): void {
    if (!this.started) return;
    this.started = false;
    this.starting = null;
    if (forget) this.storage.removeItem(this.sessionHintKey);
    if (wipe) {
      this.drafts.clear();
      this.outbox.value?.discardAll();
    }
    this.socket.stop();
    this.presenceSocket.stop();
    this.socket.lastId = 0;
    this.encryption.stop();
    this.eventQueue = null;
    this.sessions++;
    this.stopOutboxFlush?.();
    this.outbox.value?.close();
    this.outbox.value = null;
    if (this.typingTimer) clearInterval(this.typingTimer);
    if (this.staleTimer) clearTimeout(this.staleTimer);
    this.staleAll = false;
    this.staleRooms.clear();
    this.store.reset();
    this.signedUrls.clear();
    // The names forgotten with the store are asked for again; typing is announced afresh.
    this.namesAsked.clear();
    this.lastTyping.clear();
  }

  /** Stops everything this client runs (timers, sockets); the session stays open on the server. */
  close(): void {
    this.stop(false);
    for (const dispose of this.disposers.splice(0)) dispose();
    this.session.close();
  }

  async loadConfig(): Promise<ServerConfig> {
    const cfg = await this.api.get<ServerConfig>('/api/config/', undefined, { auth: false });
    this.config.value = cfg;
    return cfg;
  }

  // ---- conversations ----

  async refreshConversations(): Promise<void> {
    const list = await this.api.get<Membership[]>('/api/user_chats/');
    this.store.setConversations(list);
    await this.decodeLastMessages(list.map((m) => m.chat_room));
  }

  private markStale(roomId?: number) {
    if (roomId === undefined || !this.store.conversations.value.has(roomId)) this.staleAll = true;
    else this.staleRooms.add(roomId);
    if (this.staleTimer) return;
    this.staleTimer = setTimeout(() => {
      this.staleTimer = null;
      const all = this.staleAll;
      const rooms = [...this.staleRooms];
      this.staleAll = false;
      this.staleRooms.clear();
      if (!this.started) return;
      // What could not be reloaded (offline) is tried again when the socket is back.
      if (all) void this.refreshConversations().catch(() => (this.staleAll = true));
      else for (const r of rooms) void this.refreshConversation(r).catch(() => this.staleRooms.add(r));
    }, 150);
  }

  async refreshConversation(roomId: number): Promise<void> {
    const m = this.store.conversations.value.get(roomId);
    if (!m) return this.refreshConversations();
    try {
      const fresh = await this.api.get<Membership>(`/api/user_chats/${m.id}/`);
      if (fresh.is_active) {
        this.store.putConversation(fresh);
        await this.decodeLastMessages([roomId]);
      } else this.store.dropConversation(roomId);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) this.store.dropConversation(roomId);
      else throw err;
    }
  }

  /** The conversations' last messages, decrypted where their rooms are encrypted (for the list's previews). */
  private async decodeLastMessages(roomIds: number[]): Promise<void> {
    const last = roomIds.map((r) => this.store.conversations.value.get(r)?.last_message).filter((m): m is Message => !!m);
    const decoded = await this.encryption.decode(last);
    decoded.forEach((m, i) => {
      if (m === last[i]) return;
      const conv = this.store.conversations.value.get(m.chat_room);
      if (conv?.last_message?.id === m.id && !conv.last_message.e2ee) this.store.patchConversation(m.chat_room, { last_message: m });
    });
  }

  /** Everything again, when events may have been missed (no replay was possible): the list, notifications, and what each loaded history lacks at its end. */
  private async resync() {
    await Promise.all([
      this.refreshConversations().catch(() => (this.staleAll = true)),
      this.loadNotifications().catch(() => undefined),
      ...this.store.loadedTimelines().map((t) => t.catchUp().catch(() => undefined)),
    ]);
  }

  /** A conversation's history and members, loaded for display. */
  async openRoom(roomId: number): Promise<void> {
    const t = this.store.timeline(roomId);
    await Promise.all([t.loaded.value ? Promise.resolve() : t.loadLatest(), this.loadMembers(roomId)]);
  }

  /** Every member of a room (all pages of the list). */
  async loadMembers(roomId: number): Promise<Member[]> {
    const members = await allPages<Member>(this.api, `/api/chat_rooms/${roomId}/members/`);
    this.store.setMembers(roomId, members);
    return members;
  }

  /** Whether you may pin messages in a room: anyone in a private conversation, a group's owner and admins. */
  canPin(roomId: number): boolean {
    const conv = this.store.conversations.value.get(roomId);
    return !!conv && (conv.room_type === 'private' || conv.role !== 'member');
  }

  /** Whether you may delete others' messages in a room: its owner or an admin (groups). */
  moderates(roomId: number): boolean {
    const conv = this.store.conversations.value.get(roomId);
    return conv?.room_type === 'group' && conv.role !== 'member';
  }

  /** A user's username, loading it when it is not known yet (returns what is known now). */
  username(userId: number): string | undefined {
    const known = this.store.usernames.value.get(userId);
    if (known === undefined && !this.namesAsked.has(userId) && this.started) {
      this.namesAsked.add(userId);
      void this.api
        .get<User>(`/api/users/${userId}/`)
        .then((u) => this.store.learnUsernames([[u.id, u.username]]))
        .catch(() => this.store.learnUsernames([[userId, `user ${userId}`]]));
    }
    return known;
  }

  async searchUsers(q: string): Promise<User[]> {
    const page = await this.api.get<Page<User>>('/api/users/', { search: q });
    this.store.learnUsernames(page.results.map((u) => [u.id, u.username]));
    return page.results;
  }

  /** `is_encrypted`: end-to-end encrypted from the start (for good). */
  async createGroup(input: { name: string; is_public: boolean; members: number[]; is_encrypted?: boolean }): Promise<Room> {
    const room = await this.api.post<Room>('/api/chat_rooms/', { room_type: 'group', ...input });
    await this.refreshConversations();
    return room;
  }

  /**
   * The private conversation with one person (the existing one if there is one). `encrypted`:
   * end-to-end encrypted (an existing conversation of the two is turned on, for good).
   */
  async startDirect(userId: number, opts: { encrypted?: boolean } = {}): Promise<Room> {
    const room = await this.api.post<Room>('/api/chat_rooms/', { room_type: 'private', members: [userId], ...(opts.encrypted ? { is_encrypted: true } : {}) });
    const m = [...this.store.conversations.value.values()].find((c) => c.chat_room === room.id);
    if (!m) await this.refreshConversations();
    else {
      if (!m.is_active) await this.api.patch(`/api/user_chats/${m.id}/`, { is_active: true });
      if (room.is_encrypted) this.store.patchConversation(room.id, { is_encrypted: true });
    }
    return room;
  }

  /** Turns end-to-end encryption on in a room, for good (a group's owner; either person of a private conversation). */
  async enableEncryption(roomId: number): Promise<Room> {
    const room = await this.api.patch<Room>(`/api/chat_rooms/${roomId}/`, { is_encrypted: true });
    if (!this.encryption.isEncryptedRoom(roomId)) {
      this.store.patchConversation(roomId, { is_encrypted: true });
      await this.encryption.roomEncrypted(roomId);
    }
    return room;
  }

  /** Whether you may turn encryption on in a room: either person of a private conversation, a group's owner. */
  canEnableEncryption(roomId: number): boolean {
    const conv = this.store.conversations.value.get(roomId);
    return !!conv && !conv.is_encrypted && (conv.room_type === 'private' || conv.role === 'owner');
  }

  /** Public groups, joined or not (a page of 20). */
  publicGroups(page = 1): Promise<Page<Room>> {
    return this.api.get<Page<Room>>('/api/chat_rooms/', { page });
  }

  async join(roomId: number): Promise<void> {
    await this.api.post(`/api/chat_rooms/${roomId}/join/`);
    await this.refreshConversations();
  }

  /** Leaves a group; a private conversation is hidden instead (it comes back with a new message). */
  async leave(roomId: number): Promise<void> {
    const m = this.store.conversations.value.get(roomId);
    if (m?.room_type === 'private') await this.api.delete(`/api/user_chats/${m.id}/`);
    else await this.api.post(`/api/chat_rooms/${roomId}/leave/`);
    this.store.dropConversation(roomId);
  }

  async addMember(roomId: number, userId: number): Promise<void> {
    await this.api.post('/api/user_chats/', { chat_room: roomId, user: userId });
    await this.loadMembers(roomId);
  }

  // ---- messages ----

  /**
   * Queues a text message; it goes out now, or when the connection is back. `thread`: a reply in
   * the thread of that top-level message; `mentions`: user ids (members picked by the writer).
   */
  send(roomId: number, content: string, replyTo: number | null = null, opts: { thread?: number | null; mentions?: number[] } = {}) {
    const outbox = this.outbox.value;
    if (!outbox) throw new ApiError(401, 'Please log in.');
    // The message ends the typing the others saw; the next keystroke announces typing again.
    this.lastTyping.delete(roomId);
    return outbox.enqueue({ chat_room: roomId, content, reply_to: replyTo, thread: opts.thread, mentions: opts.mentions, encrypted: this.encryption.isEncryptedRoom(roomId) });
  }

  /** Changes your message's text (`original`: the message as shown, when at hand; in an encrypted room it keeps its file). */
  async edit(messageId: number, content: string, original?: Message): Promise<Message> {
    const before = original ?? (await this.message(messageId));
    if (before.e2ee || this.encryption.isEncryptedRoom(before.chat_room)) {
      const body: SealedBody = { body: content, ...(before.e2ee?.file ? { file: before.e2ee.file } : {}) };
      const m = await this.api.patch<Message>(`/api/messages/${messageId}/`, { content: await this.encryption.seal(before.chat_room, body) });
      const shown = ownMessage(m, body);
      this.store.putMessage(shown);
      return shown;
    }
    const m = await this.api.patch<Message>(`/api/messages/${messageId}/`, { content });
    this.store.putMessage(m);
    return m;
  }

  /** One message (members of its room), decrypted where its room is encrypted. */
  async message(id: number): Promise<Message> {
    const [m] = await this.encryption.decode([await this.api.get<Message>(`/api/messages/${id}/`)]);
    return m;
  }

  /** A thread's root and its newest replies, loaded for display; the replies then follow the room's events. */
  async openThread(root: Message): Promise<Timeline> {
    const t = this.store.thread(root.id, root.chat_room);
    t.setRoot(root);
    if (!t.loaded.value) await t.loadLatest();
    return t;
  }

  /** A room's pinned messages, newest pin first; they then follow the room's events. */
  async loadPins(roomId: number): Promise<Message[]> {
    const list = await this.encryption.decode(await this.api.get<Message[]>(`/api/chat_rooms/${roomId}/pins/`));
    this.store.pinsOf(roomId).value = list;
    return list;
  }

  /** Pins a message for everyone in its room, or (`false`) unpins it. See canPin. */
  async setPinned(message: Message, pinned: boolean): Promise<Message> {
    const path = `/api/messages/${message.id}/pin/`;
    const [m] = await this.encryption.decode([pinned ? await this.api.post<Message>(path) : await this.api.delete<Message>(path)]);
    this.store.putMessage(m);
    return m;
  }

  /** Full-text search of your rooms' messages (20 a page, best match first); `chatRoom`, `sender` narrow it. */
  search(q: string, opts: { chatRoom?: number | null; sender?: number | null; page?: number } = {}): Promise<Page<SearchResult>> {
    return this.api.get<Page<SearchResult>>('/api/messages/search/', { q, chat_room: opts.chatRoom, sender: opts.sender, page: opts.page && opts.page > 1 ? opts.page : undefined });
  }

  /** Your message; in a group you moderate, anyone's; staff, any message (the admin route). */
  async deleteMessage(message: Message): Promise<void> {
    const me = this.store.me.value;
    const mine = message.sender === me;
    if (mine || this.moderates(message.chat_room) || !this.me?.is_staff) await this.api.delete(`/api/messages/${message.id}/`);
    else await this.admin.deleteMessage(message.id);
    const t = this.store.timelineOf(message);
    const current = t.find(message.id);
    const deleted = { ...(current ?? message), content: '', is_deleted: true, deleted_by: mine ? null : me, reactions: [], attachment: null, pinned_at: null, pinned_by: null, updated_at: new Date().toISOString() };
    if (current && !current.is_deleted) t.upsert(deleted);
    this.store.updatePins(deleted);
  }

  /** Your reaction to a message: adds it, changes it, or (the same again) takes it back. Shown at once. */
  async react(message: Message, type: ReactionType): Promise<void> {
    const t = this.store.timelineOf(message);
    const current = t.find(message.id) ?? message;
    const mine = current.reactions.find((r) => r.user === this.store.me.value);
    if (!mine) t.applyReaction(await this.api.post<Reaction>('/api/reactions/', { message: message.id, reaction_type: type }), 'added');
    else if (mine.reaction_type === type) {
      await this.api.delete(`/api/reactions/${mine.id}/`);
      t.applyReaction({ ...mine, message: message.id, created_at: '', updated_at: '' }, 'removed');
    } else t.applyReaction(await this.api.patch<Reaction>(`/api/reactions/${mine.id}/`, { reaction_type: type }), 'changed');
  }

  /**
   * Sends a file: a message (the caption, or the file's name), then the file attached to it,
   * with progress. Refused before any upload when it is over the server's limit. If the
   * upload fails the message is deleted again, so nothing half-sent is left behind.
   */
  async sendFile(roomId: number, file: Blob & { name?: string }, opts: { caption?: string; replyTo?: number | null; thread?: number | null; onProgress?: (fraction: number) => void; signal?: AbortSignal } = {}): Promise<Message> {
    const cfg = this.config.value ?? (await this.loadConfig().catch(() => null));
    const name = file.name || 'file';
    const limit = cfg?.limits.upload_max_bytes;
    if (limit !== undefined && file.size > limit) {
      throw new ApiError(413, `${name} (${formatBytes(file.size)}) is larger than this server's limit of ${formatBytes(limit)} per file.`, 'too_large');
    }
    const extra = { ...(opts.replyTo ? { reply_to: opts.replyTo } : {}), ...(opts.thread ? { thread: opts.thread } : {}) };
    let message: Message;
    let upload: Blob;
    if (this.encryption.isEncryptedRoom(roomId)) {
      // Encrypted here; the key, name and type go inside the encrypted message, the server gets ciphertext only.
      const sealed = await this.encryption.encryptFile(await file.arrayBuffer(), { name, mime: file.type || 'application/octet-stream' });
      const body: SealedBody = { body: opts.caption?.trim() ?? '', file: sealed.info };
      message = ownMessage(await this.api.post<Message>('/api/messages/', { chat_room: roomId, content: await this.encryption.seal(roomId, body), ...extra }), body);
      upload = new Blob([sealed.ciphertext as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' });
    } else {
      message = await this.api.post<Message>('/api/messages/', { chat_room: roomId, content: opts.caption?.trim() || name, ...extra });
      upload = file;
    }
    this.store.addMessage(message);
    const form = new FormData();
    form.append('message', String(message.id));
    form.append('file_type', message.e2ee ? 'encrypted' : fileTypeOf(file.type));
    form.append('file', upload, message.e2ee ? 'attachment.bin' : name);
    try {
      await this.api.upload<AttachmentDetail>('/api/attachments/', form, (p) => opts.onProgress?.(p.total ? p.loaded / p.total : 0), opts.signal);
    } catch (err) {
      await this.api.delete(`/api/messages/${message.id}/`).catch(() => undefined);
      const t = this.store.timelineOf(message);
      const shown = t.find(message.id);
      if (shown) t.upsert({ ...shown, content: '', is_deleted: true, updated_at: new Date().toISOString() });
      throw err;
    }
    return message;
  }

  /**
   * The file of a message of an encrypted room, downloaded and decrypted (its SHA-256 checked
   * first). Its type is the sender's only for images the page may show; anything else is
   * application/octet-stream, so a browser saves it rather than opening it in the page's origin.
   */
  async encryptedFile(m: Message): Promise<Blob> {
    const info = m.e2ee?.file;
    if (!info || !m.attachment) throw new ApiError(404, 'This message carries no encrypted file.');
    const url = await this.signedUrls.get(m.attachment.id);
    let res: Response;
    try {
      res = await (this.fetchImpl ?? fetch)(url);
    } catch {
      throw new ApiError(0, 'Cannot reach the server. Check your connection.', 'network');
    }
    if (!res.ok) throw new ApiError(res.status, `The file ${info.name} could not be downloaded.`);
    const plain = await this.encryption.decryptFile(await res.arrayBuffer(), info);
    return new Blob([plain as Uint8Array<ArrayBuffer>], { type: safeMime(info.mime) });
  }

  /** A URL for an attachment that works in <img> and links (signed, short-lived, cached until near expiry). */
  attachmentUrl(attachmentId: number): Promise<string> {
    return this.signedUrls.get(attachmentId);
  }

  /** Moves your read position (over the socket, or REST when it is down). */
  markRead(roomId: number, messageId: number): void {
    const conv = this.store.conversations.value.get(roomId);
    if (!conv || (conv.last_seen_message ?? 0) >= messageId) return;
    const newest = conv.last_message?.id ?? 0;
    this.store.patchConversation(roomId, { last_seen_message: messageId, ...(messageId >= newest ? { unread_count: 0, is_read: true } : {}) });
    if (!this.socket.send({ type: 'read', chat_room: roomId, message: messageId })) {
      void this.api.patch(`/api/user_chats/${conv.id}/`, { last_seen_message: messageId }).catch(() => undefined);
    }
  }

  /** Tells the room you are typing (at most every few seconds). */
  typing(roomId: number): void {
    const now = Date.now();
    if (now - (this.lastTyping.get(roomId) ?? 0) < TYPING_EVERY_MS) return;
    if (this.socket.send({ type: 'typing', chat_room: roomId })) this.lastTyping.set(roomId, now);
  }

  // ---- notifications ----

  async loadNotifications(): Promise<void> {
    const [page, unread] = await Promise.all([
      this.api.get<Page<Notification>>('/api/notifications/'),
      this.api.get<Page<Notification>>('/api/notifications/', { is_read: false }),
    ]);
    this.store.notifications.value = page.results;
    this.store.unreadNotifications.value = unread.count;
  }

  async markNotificationRead(n: Notification): Promise<void> {
    if (n.is_read) return;
    await this.api.patch(`/api/notifications/${n.id}/`, { is_read: true });
    this.store.notifications.value = this.store.notifications.value.map((x) => (x.id === n.id ? { ...x, is_read: true } : x));
    this.store.unreadNotifications.value = Math.max(0, this.store.unreadNotifications.value - 1);
  }

  async markAllNotificationsRead(): Promise<void> {
    await this.api.post('/api/notifications/mark_all_read/');
    this.store.notifications.value = this.store.notifications.value.map((x) => ({ ...x, is_read: true }));
    this.store.unreadNotifications.value = 0;
  }

  // ---- drafts (kept across reloads; a logout removes them) ----

  /** A conversation's draft (`thread:<root id>`: a thread's). */
  draft(roomId: number | string): string {
    return this.drafts.get(roomId);
  }

  setDraft(roomId: number | string, text: string): void {
    this.drafts.set(roomId, text);
  }

  displayName(m: Membership): string {
    return displayName(m);
  }
}
