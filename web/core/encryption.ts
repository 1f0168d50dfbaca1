// End-to-end encrypted rooms, as the client sees them: which messages need decrypting, what a
// decrypted message looks like, and the engine (e2ee-client.ts, with the protocol library) loaded
// on demand, after the first page, so the page itself does not grow. Each signed-in user has a
// device of their own in this browser (its own store); its id goes on the event socket so key
// material reaches it. The user's own devices can be listed and removed ("Your devices"); when
// this browser's device is removed from another one, a new device replaces it (deviceRemoved).
import { signal } from '@preact/signals-core';
import type { KeyValueStore } from './e2ee/store.js';
import type { DeviceSafety, Engine, OwnDevice } from './e2ee-client.js';
import type { Api } from './http.js';
import type { ChatStore } from './store.js';
import type { EncryptedFile, Message, ServerEvent, ToDeviceFrame } from './types.js';

/** How an encrypted message's `content` begins (the protocol's format 1). */
export const ENCRYPTED_PREFIX = 'e2ee:1:';

/** Opens the key store of a signed-in user: IndexedDB in browsers, anything shaped like it elsewhere. */
export type KeyStoreFactory = (userId: number) => Promise<KeyValueStore>;

export type EncryptionStatus = 'off' | 'starting' | 'ready' | 'unavailable';

/** A contact's device whose keys are not the ones recorded for it: shown as a warning until accepted. */
export interface IdentityWarning {
  user: number;
  device_id: string;
  known: { identity_key: string; signing_key: string };
  seen: { identity_key: string; signing_key: string };
}

/** A member of an encrypted room added or removed a device: the conversation says so (until dismissed). */
export interface DeviceNotice {
  /** The event's id (unique). */
  id: number;
  room: number;
  user: number;
  device_id: string;
  kind: 'added' | 'removed';
  at: string;
}

/** Notices kept per room (the newest). */
const NOTICES_PER_ROOM = 5;
/** More automatic replacements of this browser's device than this within REPLACE_WINDOW_MS: something is wrong, stop. */
const MAX_REPLACEMENTS = 3;
const REPLACE_WINDOW_MS = 10 * 60_000;

/** What goes inside an encrypted message: its text, and the file it carries (key included). */
export interface SealedBody {
  body: string;
  file?: EncryptedFile;
}

/** The plaintext of an encrypted message: our JSON body, or (another client's) plain text. */
export function openBody(plaintext: string): SealedBody {
  try {
    const v = JSON.parse(plaintext) as SealedBody;
    if (v && typeof v === 'object' && typeof v.body === 'string') {
      const f = v.file;
      const file = f && typeof f === 'object' && typeof f.key === 'string' && typeof f.iv === 'string' && typeof f.sha256 === 'string' && typeof f.name === 'string' && typeof f.mime === 'string' && Number.isSafeInteger(f.size) ? f : undefined;
      return file ? { body: v.body, file } : { body: v.body };
    }
  } catch {
    // plain text
  }
  return { body: plaintext };
}

/** Why a message could not be decrypted, in words (the view says "Unable to decrypt" and this). */
export function decryptReason(code: string | undefined): string {
  if (code === 'unknown_session' || code === 'index_too_early') return 'This device has no key for it: it was sent before you joined or before this browser was set up, or its key has not arrived yet.';
  if (code === 'unavailable') return 'This client cannot decrypt messages.';
  if (code === 'replay') return 'It repeats an earlier message.';
  return 'It was changed or is damaged, or does not come from its sender.';
}

const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/bmp']);

/** The type a decrypted file may be shown as: images the page may display, anything else only as a download. */
export function safeMime(mime: string): string {
  return IMAGE_TYPES.has(mime) ? mime : 'application/octet-stream';
}

const MESSAGE_EVENTS = new Set(['new_message', 'message_updated', 'message_deleted', 'message_pinned', 'message_unpinned']);
type MessageEvent = Extract<ServerEvent, { message: Message }>;
const carriesMessage = (e: ServerEvent): e is MessageEvent => MESSAGE_EVENTS.has(e.type);

export class Encryption {
  readonly status = signal<EncryptionStatus>('off');
  /** This browser's device id while signed in. */
  readonly deviceId = signal<string | null>(null);
  /** Devices whose keys changed, until their new keys are accepted. */
  readonly warnings = signal<IdentityWarning[]>([]);
  /** Devices added to or removed from encrypted rooms' members (this browser's own excepted), oldest first. */
  readonly deviceNotices = signal<DeviceNotice[]>([]);
  /** Bumped when one of the user's own devices is added or removed (a list of them is then out of date). */
  readonly ownDevicesChanged = signal(0);
  private engine: Promise<Engine | null> | null = null;
  private generation = 0;
  private userId: number | null = null;
  /** The device id the event socket was last opened with. */
  private socketDevice: string | null = null;
  /** Every device id this browser has had for the user this session (its own events are not news). */
  private readonly localIds = new Set<string>();
  /** Own device changes seen (`added:<id>`), so one change announced in several rooms counts once. */
  private readonly ownChanges = new Set<string>();
  /** When this browser's device was replaced (this session), for the loop guard. */
  private replacements: number[] = [];
  private readonly replacedListeners = new Set<(info: { removed: string; replacement: string | null }) => void>();

  constructor(
    private readonly api: Api,
    private readonly store: ChatStore,
    private readonly openStore: KeyStoreFactory | null,
    /** The device is known after the socket connected without it: connect again with it. */
    private readonly reconnect: () => void,
    /** Whether the event socket is live now (its events arrive). */
    private readonly socketLive: () => boolean = () => false,
  ) {}

  /** Counts the socket's arrivals at ready: what was read while it stayed live is current (see EngineHooks.liveEpoch). */
  private socketEpoch = 0;

  /** Loads (or makes) this browser's device for the user, in the background. */
  start(userId: number): void {
    if (this.engine) return;
    this.userId = userId;
    this.boot(userId, null);
  }

  /**
   * The engine for the user's device, as a promise in `this.engine`: loaded from the store or
   * made, and registered. `replacing`: the server removed that device, so a new one is made in its
   * place. A device that turns out to have been removed while this browser was away is replaced
   * the same way (and the user told), before anything uses it.
   */
  private boot(userId: number, replacing: string | null): void {
    const generation = ++this.generation;
    if (!this.openStore) {
      this.status.value = 'unavailable';
      this.engine = Promise.resolve(null);
      return;
    }
    this.status.value = 'starting';
    this.deviceId.value = null;
    const openStore = this.openStore;
    const hooks = {
      keysArrived: (room: number) => {
        if (generation === this.generation) void this.redecode(room);
      },
      identityChanged: (w: IdentityWarning) => {
        if (generation === this.generation) this.warn(w);
      },
      deviceRemoved: (id: string) => {
        if (generation === this.generation) void this.deviceRemoved(id).then(() => this.reconnect());
      },
      liveEpoch: () => (this.socketLive() ? this.socketEpoch : null),
    };
    this.engine = (async () => {
      try {
        const { openEngine } = await import('./e2ee-client.js');
        for (;;) {
          const engine = await openEngine(this.api, userId, await openStore(userId), hooks, replacing);
          this.localIds.add(engine.deviceId);
          if (generation !== this.generation) {
            engine.close();
            return null;
          }
          // The first registration (a new device) before the socket connects with its id; later ones with the socket's ready.
          const registered = await engine.register().catch(() => false);
          if (generation !== this.generation) {
            engine.close();
            return null;
          }
          if (registered === 'removed') {
            engine.close();
            if (!this.mayReplace()) throw new Error('too many replacements');
            replacing = engine.deviceId;
            continue;
          }
          if (replacing !== null) this.announceReplaced(replacing, engine.deviceId);
          this.deviceId.value = engine.deviceId;
          this.status.value = 'ready';
          return engine;
        }
      } catch {
        if (generation === this.generation) this.status.value = 'unavailable';
        return null;
      }
    })();
  }

  /** Whether this browser may make yet another device now (a guard against a server that keeps refusing them). */
  private mayReplace(): boolean {
    const now = Date.now();
    this.replacements = this.replacements.filter((t) => now - t < REPLACE_WINDOW_MS);
    if (this.replacements.length >= MAX_REPLACEMENTS) return false;
    this.replacements.push(now);
    return true;
  }

  private announceReplaced(removed: string, replacement: string | null): void {
    for (const fn of this.replacedListeners) fn({ removed, replacement });
  }

  /**
   * Called once per replacement of this browser's device after the server removed it (from another
   * browser): `replacement` is the new device's id, or null when no new device could be made (then
   * encrypted conversations are unavailable until the next log-in).
   */
  onDeviceReplaced(fn: (info: { removed: string; replacement: string | null }) => void): () => void {
    this.replacedListeners.add(fn);
    return () => this.replacedListeners.delete(fn);
  }

  /**
   * The server removed `deviceId` (the socket closed with 4410, or the device's own
   * `device_removed` arrived): if it is this browser's device, a new one replaces it, its records
   * of the old one are dropped (what it could read it still reads), and the socket is to connect
   * with the new id. Resolves once the new device is ready (or none could be made): never with the
   * removed id still in use. Harmless for a device already replaced.
   */
  async deviceRemoved(deviceId: string): Promise<void> {
    const current = this.engine;
    const userId = this.userId;
    if (!current || userId === null) return;
    const engine = await current;
    if (this.engine !== current) {
      await this.ready(); // replaced (or stopped) meanwhile: the socket waits for what follows
      return;
    }
    if (!engine || engine.deviceId !== deviceId) return;
    engine.close();
    if (!this.mayReplace()) {
      this.generation++;
      this.engine = Promise.resolve(null);
      this.status.value = 'unavailable';
      this.deviceId.value = null;
      this.announceReplaced(engine.deviceId, null);
      return;
    }
    this.boot(userId, engine.deviceId);
    await this.ready();
  }

  stop(): void {
    this.generation++;
    const engine = this.engine;
    this.engine = null;
    this.userId = null;
    void engine?.then((e) => e?.close());
    this.status.value = 'off';
    this.deviceId.value = null;
    this.warnings.value = [];
    this.deviceNotices.value = [];
    this.ownChanges.clear();
    this.localIds.clear();
    this.replacements = [];
  }

  /** The engine, once loaded (null: encryption is unavailable here). */
  private ready(): Promise<Engine | null> {
    return this.engine ?? Promise.resolve(null);
  }

  private async need(): Promise<Engine> {
    const engine = await this.ready();
    // Not an ApiError: nothing to retry (the outbox marks the message as not sent).
    if (!engine) throw new Error('End-to-end encryption is not available in this browser, so nothing can be sent to an encrypted conversation.');
    return engine;
  }

  /**
   * Extra parameters of the event socket: this device's id, so its key material arrives live;
   * only once the server has the device (it closes a socket naming another with 4410), and never
   * one it removed (a replacement is made and awaited first).
   */
  async socketQuery(): Promise<Record<string, string>> {
    let engine = await this.ready();
    let registered = engine ? await engine.register().catch(() => false) : false;
    if (engine && registered === 'removed') {
      await this.deviceRemoved(engine.deviceId);
      engine = await this.ready();
      registered = engine ? await engine.register().catch(() => false) : false;
    }
    const id = engine && registered === true ? engine.deviceId : null;
    this.socketDevice = id;
    return id ? { device_id: id } : {};
  }

  /** The event socket is live (after a replay or not). */
  onReady(): void {
    this.socketEpoch++;
    void this.ready().then(async (engine) => {
      if (!engine) return;
      // Opened for a device since replaced: again, with the new one.
      if (this.socketDevice !== null && this.socketDevice !== engine.deviceId) return this.reconnect();
      await engine.onReady().catch(() => undefined);
      // Registered only now (the server could not be asked before): again, with its id.
      if (this.socketDevice === null && engine.registeredNow && this.engine && (await this.engine) === engine) this.reconnect();
    });
  }

  /** Reads the key material waiting for this device now (it is also read whenever the socket connects, and as it arrives). */
  async sync(): Promise<void> {
    await (await this.ready())?.drain();
  }

  /** Events for the engine: envelopes, and the membership and device changes of rooms. */
  onEvent(e: ServerEvent): void {
    if (e.type === 'to_device') {
      const frame: ToDeviceFrame = e.to_device;
      void this.ready().then((engine) => engine?.onToDevice(frame));
    } else if (e.type === 'member_left' || e.type === 'member_joined' || e.type === 'device_added' || e.type === 'device_removed') {
      const { type, chat_room: room, user } = e;
      const device = 'device_id' in e ? e.device_id : undefined;
      void this.ready().then((engine) => engine?.onRoomEvent(type, room, user, device));
      if (e.type === 'device_added' || e.type === 'device_removed') this.deviceChanged(e);
    }
  }

  /** A member's device came or went: a notice in an encrypted room; this browser's own device removed: a new one. */
  private deviceChanged(e: Extract<ServerEvent, { type: 'device_added' | 'device_removed' }>): void {
    const kind = e.type === 'device_added' ? 'added' : 'removed';
    const mine = e.user === this.store.me.value;
    if (mine && this.localIds.has(e.device_id)) {
      // Added: this browser registering itself. Removed: from another browser (the socket may also close with 4410); an earlier one of its devices: nothing new.
      if (kind === 'removed' && e.device_id === this.deviceId.value) void this.deviceRemoved(e.device_id).then(() => this.reconnect());
      return;
    }
    if (mine && !this.ownChanges.has(`${kind}:${e.device_id}`)) {
      this.ownChanges.add(`${kind}:${e.device_id}`);
      this.ownDevicesChanged.value++;
    }
    if (!this.isEncryptedRoom(e.chat_room) || this.deviceNotices.value.some((n) => n.id === e.id)) return;
    const notice: DeviceNotice = { id: e.id, room: e.chat_room, user: e.user, device_id: e.device_id, kind, at: e.created_at };
    const others = this.deviceNotices.value.filter((n) => n.room !== e.chat_room);
    const here = [...this.deviceNotices.value.filter((n) => n.room === e.chat_room), notice].slice(-NOTICES_PER_ROOM);
    this.deviceNotices.value = [...others, ...here];
  }

  /** A room's device notices, oldest first. */
  noticesOf(roomId: number): DeviceNotice[] {
    return this.deviceNotices.value.filter((n) => n.room === roomId);
  }

  dismissNotice(id: number): void {
    this.deviceNotices.value = this.deviceNotices.value.filter((n) => n.id !== id);
  }

  // ---- which rooms, which messages ----

  isEncryptedRoom(roomId: number): boolean {
    return !!this.store.conversations.value.get(roomId)?.is_encrypted;
  }

  /** Whether a message must be read through the engine: any message of an encrypted room, or ciphertext where the room is not known. */
  private needs(m: Message): boolean {
    if (m.is_deleted || m.e2ee) return false;
    const conv = this.store.conversations.value.get(m.chat_room);
    return conv ? !!conv.is_encrypted : m.content.startsWith(ENCRYPTED_PREFIX);
  }

  /** Whether an event carries a message to decrypt before it is applied. */
  eventNeedsDecoding(e: ServerEvent): boolean {
    return carriesMessage(e) && this.needs(e.message);
  }

  async decodeEvent(e: ServerEvent): Promise<ServerEvent> {
    if (!carriesMessage(e)) return e;
    const [message] = await this.decode([e.message]);
    return { ...e, message } as ServerEvent;
  }

  /** Messages made ready to show: those of encrypted rooms decrypted (or marked as failed, or as not encrypted). */
  async decode(messages: Message[]): Promise<Message[]> {
    const todo = messages.filter((m) => this.needs(m));
    if (!todo.length) return messages;
    const engine = await this.ready();
    const done = new Map<number, Message>();
    const byRoom = new Map<number, Message[]>();
    for (const m of todo) {
      if (!m.content.startsWith(ENCRYPTED_PREFIX)) done.set(m.id, { ...m, e2ee: { state: 'plain' } });
      else byRoom.set(m.chat_room, [...(byRoom.get(m.chat_room) ?? []), m]);
    }
    for (const [room, list] of byRoom) {
      const results = engine ? await engine.decrypt(room, list).catch(() => list.map(() => ({ error: 'malformed' }))) : list.map(() => ({ error: 'unavailable' }));
      list.forEach((m, i) => {
        const r = results[i];
        if ('plaintext' in r) {
          const { body, file } = openBody(r.plaintext);
          done.set(m.id, { ...m, content: body, e2ee: { state: 'decrypted', ciphertext: m.content, ...(file ? { file } : {}) } });
        } else done.set(m.id, { ...m, content: '', e2ee: { state: 'failed', reason: r.error, ciphertext: m.content } });
      });
    }
    return messages.map((m) => done.get(m.id) ?? m);
  }

  /** A room key arrived: the room's loaded messages that failed are decrypted again. */
  private redecode(roomId: number): Promise<void> {
    const raw = (m: Message): Message => ({ ...m, content: m.e2ee!.ciphertext!, e2ee: undefined });
    return this.reread(roomId, (m) => m.e2ee?.state === 'failed' && !!m.e2ee.ciphertext, raw, (m) => m.e2ee?.state === 'decrypted');
  }

  /** Encryption was turned on in a room: what is loaded of it is read again (earlier messages are marked as not encrypted). */
  roomEncrypted(roomId: number): Promise<void> {
    return this.reread(roomId, (m) => !m.e2ee && !m.is_deleted, (m) => m, () => true);
  }

  /** Reads again the room's loaded messages that `pick` selects (its history, threads, pins, last message); `keep` says which results replace them. */
  private async reread(roomId: number, pick: (m: Message) => boolean, raw: (m: Message) => Message, keep: (m: Message) => boolean): Promise<void> {
    const loaded = this.store.loadedTimelines().filter((t) => t.roomId === roomId);
    const lists = [...loaded.flatMap((t) => [...t.messages.value, t.root.value]), ...(this.store.pins.get(roomId)?.value ?? []), this.store.conversations.value.get(roomId)?.last_message];
    const chosen = (m: Message | null | undefined): m is Message => !!m && m.chat_room === roomId && pick(m);
    const todo = [...new Map(lists.filter(chosen).map((m) => [m.id, raw(m)])).values()];
    if (!todo.length) return;
    const decoded = (await this.decode(todo)).filter(keep);
    for (const m of decoded) {
      this.store.putMessage(m);
      const conv = this.store.conversations.value.get(roomId);
      if (conv?.last_message?.id === m.id) this.store.patchConversation(roomId, { last_message: m });
    }
  }

  // ---- sending ----

  /** The `content` for a message of an encrypted room. */
  async seal(roomId: number, body: SealedBody): Promise<string> {
    const engine = await this.need();
    return engine.encrypt(roomId, JSON.stringify(body));
  }

  async encryptFile(data: ArrayBuffer, meta: { name: string; mime: string }): Promise<{ ciphertext: Uint8Array; info: EncryptedFile }> {
    return (await this.need()).encryptFile(data, meta);
  }

  async decryptFile(data: ArrayBuffer, info: EncryptedFile): Promise<Uint8Array> {
    return (await this.need()).decryptFile(data, info);
  }

  // ---- identities ----

  private warn(w: IdentityWarning): void {
    const same = (x: IdentityWarning) => x.user === w.user && x.device_id === w.device_id;
    const current = this.warnings.value.find(same);
    if (current && current.seen.identity_key === w.seen.identity_key && current.seen.signing_key === w.seen.signing_key) return;
    this.warnings.value = [...this.warnings.value.filter((x) => !same(x)), w];
  }

  /** Trusts a device's new keys: its warning goes, and it gets room keys again. */
  async acceptIdentity(w: IdentityWarning): Promise<void> {
    await (await this.need()).acceptIdentity(w);
    this.warnings.value = this.warnings.value.filter((x) => !(x.user === w.user && x.device_id === w.device_id));
  }

  /** A contact's devices, each with its safety number (compare it with theirs to know no one is in between). */
  async safety(userId: number): Promise<DeviceSafety[]> {
    return (await this.need()).safety(userId);
  }

  // ---- your devices ----

  /** Your devices, this browser's marked, each with a short key fingerprint to compare between your browsers. */
  async ownDevices(): Promise<OwnDevice[]> {
    return (await this.need()).ownDevices();
  }

  /** Removes one of your other devices: it gets no keys to new messages (the room members' browsers rotate theirs). */
  async removeDevice(deviceId: string): Promise<void> {
    const engine = await this.need();
    if (deviceId === engine.deviceId) throw new Error('This browser’s own device cannot be removed from here.');
    await this.api.delete(`/api/e2ee_keys/devices/${encodeURIComponent(deviceId)}/`);
    this.ownChanges.add(`removed:${deviceId}`);
  }
}
