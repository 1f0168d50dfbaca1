// The end-to-end encryption engine of the chat client, loaded on demand: a chunk of its own with
// the protocol library (web/core/e2ee/), so pages that never encrypt do not pay for it up front.
// It runs this browser's device (loaded from its store, or made and registered), keeps one-time
// prekeys topped up, reads the to-device inbox (socket frames and the server's queue, then
// acknowledged), shares a room's session key with the room's devices before encrypting for it,
// rotates when the membership changes, and decrypts. Only public keys, envelopes and ciphertext
// ever leave it; nothing secret is logged. When the server no longer has this browser's device
// (removed from another browser), a new device is made in its place (openEngine's `replacing`).
import { type ClaimedBundle, type DeviceUpload, E2ee, type IdentityChange, IdentityChangedError, type KeyValueStore, type ToDeviceResult, decryptAttachment, encryptAttachment } from './e2ee/index.js';
import { fingerprintDigits } from './e2ee/safety.js';
import type { IdentityWarning } from './encryption.js';
import type { ApiError } from './errors.js';
import type { Api } from './http.js';
import type { DeviceInfo, EncryptedFile, ToDeviceFrame } from './types.js';

/** What the engine tells the client. */
export interface EngineHooks {
  /** A room key arrived: messages of that room that could not be decrypted may be now. */
  keysArrived(room: number): void;
  /** A device presents other keys than the ones recorded for it: not trusted until accepted. */
  identityChanged(change: IdentityWarning): void;
  /** The server no longer has this device (it was removed, from another browser): a new one must be made. */
  deviceRemoved(deviceId: string): void;
  /**
   * While the event socket is live, a number that changes whenever it has been down since (room
   * events keep what was read during one such stretch current); null while it is not live.
   */
  liveEpoch(): number | null;
}

/** One of the signed-in user's own devices, as "Your devices" lists it. */
export interface OwnDevice {
  device_id: string;
  display_name: string | null;
  created_at: string | null;
  /** This browser's device. */
  current: boolean;
  /** The first 20 digits of the device's half of every safety number (see keyFingerprint), in groups of 5. */
  fingerprint: string;
  /** This browser only: the server lists other keys for it than the ones it holds (false everywhere else). */
  mismatch: boolean;
  /** This browser only: whether the server lists it (not yet, or no longer). */
  listed: boolean;
}

/** One of a contact's devices with its safety number (ours and theirs together). */
export interface DeviceSafety {
  device_id: string;
  display_name: string | null;
  created_at: string | null;
  safety_number: string;
  /** `new`: never exchanged keys with it yet; `changed`: its keys differ from those recorded. */
  trust: 'known' | 'new' | 'changed';
}

export type Decrypted = { plaintext: string } | { error: string };

const PREKEYS_LOW = 20;
const PREKEYS_TARGET = 60;
const SIGNED_PREKEY_MAX_AGE_MS = 30 * 24 * 3600 * 1000;
const CLAIM_DEVICES_PER_REQUEST = 200;
const ENVELOPES_PER_REQUEST = 100;
const MAX_WAIT_S = 60;
/** A drain of the queue after live envelopes, so they are acknowledged without one request each. */
const DRAIN_AFTER_MS = 1_000;

/** A record of the glue's own in the key store (no library record starts with `client:`): the device id the server has confirmed. */
const REGISTERED_KEY = 'client:registered';
/**
 * The library's records that do not belong to one device and are kept when a removed device is
 * replaced: contacts' recorded identities (so a changed key is still noticed) and the room keys
 * received (so what this browser could read it still reads). Everything else (the device, its
 * prekeys, its channels, its outbound sessions) goes.
 */
const KEPT_ON_REPLACE = ['identity:', 'in-group:', 'in-seen:'];
/** Digits of the short key fingerprint shown in "Your devices". */
const FINGERPRINT_DIGITS = 20;

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The client's ApiError, read by its fields (importing the class would put it in a chunk of its own, shared with the first page). */
const apiError = (err: unknown): Partial<Pick<ApiError, 'status' | 'retryAfter' | 'isTransient'>> => (err && typeof err === 'object' && 'status' in err ? (err as ApiError) : {});

/** "Chrome on Linux": what other people see in their safety-number list (no more than the user agent says). */
function deviceName(): string {
  const ua = typeof navigator !== 'undefined' ? navigator.userAgent : '';
  if (!ua) return 'Chat client';
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : 'Browser';
  const os = /Android/.test(ua) ? 'Android' : /iPhone|iPad/.test(ua) ? 'iOS' : /Mac OS X/.test(ua) ? 'macOS' : /Windows/.test(ua) ? 'Windows' : /Linux/.test(ua) ? 'Linux' : '';
  return os ? `${browser} on ${os}` : browser;
}

/**
 * A device's short key fingerprint: the first 20 of the 30 digits its signing key contributes to
 * every safety number (the same derivation, web/core/e2ee/safety.ts), in groups of 5. Every
 * browser computes the same digits for a device, so two of your browsers can compare theirs.
 */
export function keyFingerprint(user: number | string, signingKey: string): string {
  return fingerprintDigits({ user, signing_key: signingKey }).slice(0, FINGERPRINT_DIGITS).match(/\d{5}/g)!.join(' ');
}

/** Runs `fn` under a Web Lock where the browser has them (tabs of one browser share the key store), else at once. */
function underLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const locks = (globalThis as { navigator?: { locks?: { request(name: string, fn: () => Promise<T>): Promise<T> } } }).navigator?.locks;
  return locks ? locks.request(name, fn) : fn();
}

/**
 * This browser's device for `userId`: the one in the store, or a new one (registered with the
 * server later). `replacing`: the server removed that device; if the store still holds it, its
 * records are deleted first (see KEPT_ON_REPLACE) and a new device is made. Under a lock per user,
 * so tabs that learn of the removal together make one new device, not one each.
 */
export function openEngine(api: Api, userId: number, store: KeyValueStore, hooks: EngineHooks, replacing: string | null = null): Promise<Engine> {
  return underLock(`chat-e2ee-device:${userId}`, async () => {
    let found = await E2ee.load(store);
    if (found && found.user !== String(userId)) throw new Error('This key store belongs to another account.');
    if (found && replacing !== null && found.deviceId === replacing) {
      for (const key of await store.keys('')) if (!KEPT_ON_REPLACE.some((p) => key.startsWith(p))) await store.delete(key);
      found = null;
    }
    if (found) return new Engine(api, found, store, hooks, null);
    const made = await E2ee.createDevice(store, userId);
    return new Engine(api, made.e2ee, store, hooks, made.upload);
  });
}

export class Engine {
  private registered: Promise<boolean | 'removed'> | null = null;
  private confirmed = false;
  private inbox: Promise<unknown> = Promise.resolve();
  /** Envelope ids handled since the last acknowledgement (an envelope may come on the socket and in the queue). */
  private readonly handled = new Set<number>();
  private drainTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly rooms = new Map<number, Promise<unknown>>();
  /** Envelopes from a device whose keys changed, opened again once the new keys are accepted. */
  private readonly held = new Map<string, ToDeviceFrame[]>();
  private closed = false;
  /** Recorded identities read so far (a record changes only through acceptIdentity): a room's devices are checked before each message. */
  private readonly identities = new Map<string, { identity_key: string; signing_key: string }>();
  /** Key fingerprints computed so far (5,200 SHA-512 rounds each), by user and signing key. */
  private readonly fingerprints = new Map<string, string>();
  /**
   * Each room's member devices as listed while the socket was live, kept until a room event
   * changes them (onRoomEvent) or the socket goes down (liveEpoch): a send does not ask again.
   */
  private readonly roomDevices = new Map<number, { epoch: number; list: Promise<DeviceInfo[]> }>();

  constructor(
    private readonly api: Api,
    readonly e2ee: E2ee,
    private readonly store: KeyValueStore,
    private readonly hooks: EngineHooks,
    /** The new device's first upload (with its one-time prekeys), until the server has it. */
    private firstUpload: DeviceUpload | null,
  ) {}

  get deviceId(): string {
    return this.e2ee.deviceId;
  }

  /** Whether the server is known to have this device (registered, or found in the user's list, by this engine). */
  get registeredNow(): boolean {
    return this.confirmed;
  }

  /** Stops (log-out, or the device replaced): the library lets go of its blocks and other tabs, writes what it holds, then the store closes. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = null;
    const store = this.store as { close?: () => void };
    void this.e2ee
      .close()
      .catch(() => undefined)
      .then(() => store.close?.());
  }

  /** The identity recorded for a device (trust on first use), if any. */
  private async known(user: number, deviceId: string): Promise<{ identity_key: string; signing_key: string } | undefined> {
    const key = `${user}:${deviceId}`;
    const hit = this.identities.get(key);
    if (hit) return hit;
    const found = await this.e2ee.knownIdentity(user, deviceId);
    if (found) this.identities.set(key, { identity_key: found.identity_key, signing_key: found.signing_key });
    return found;
  }

  // ---- the device ----

  /**
   * Registers the device; true once the server has it, false when it could not be asked (try again
   * later). A device the server confirmed before (recorded in the store) is not registered again
   * but looked for in the user's list: missing there, it was removed meanwhile (from another
   * browser), and the answer is `removed` (registering it again would undo that removal).
   */
  register(): Promise<boolean | 'removed'> {
    this.registered ??= (async (): Promise<boolean | 'removed'> => {
      if (!this.firstUpload && (await this.store.get<string>(REGISTERED_KEY)) === this.deviceId) {
        const mine = await this.api.get<DeviceInfo[]>('/api/e2ee_keys/devices/', { user: this.e2ee.user });
        return mine.some((d) => d.device_id === this.deviceId) ? true : 'removed';
      }
      await this.api.post('/api/e2ee_keys/devices/', { ...(this.firstUpload ?? this.e2ee.upload()), display_name: deviceName() });
      this.firstUpload = null;
      if (!this.closed) await this.store.put(REGISTERED_KEY, this.deviceId);
      return true;
    })().then(
      (result) => {
        if (result === 'removed') this.registered = null;
        else this.confirmed = true;
        return result;
      },
      (err) => {
        this.registered = null;
        if (apiError(err).isTransient) return false;
        throw err;
      },
    );
    return this.registered;
  }

  /** The socket is live: register if needed, top up prekeys, read what waited in the queue. */
  async onReady(): Promise<void> {
    const registered = await this.register();
    if (this.closed) return;
    if (registered === 'removed') return this.hooks.deviceRemoved(this.deviceId);
    if (!registered) return;
    await Promise.all([this.topUp().catch(() => undefined), this.drain().catch(() => undefined)]);
  }

  /**
   * The user's own devices, this browser's marked (with the fingerprint of the keys it holds, and
   * whether the server lists the same ones), each with its short key fingerprint.
   */
  async ownDevices(): Promise<OwnDevice[]> {
    const me = this.e2ee.user;
    const listed = await this.api.get<DeviceInfo[]>('/api/e2ee_keys/devices/', { user: me });
    const local = this.e2ee.publicIdentity;
    const out: OwnDevice[] = [];
    for (const d of listed) {
      const current = d.device_id === this.deviceId;
      const mismatch = current && (d.signing_key !== local.signing_key || d.identity_key !== local.identity_key);
      // Yielding between devices keeps the page responsive (each fingerprint is ~0.1 s of hashing).
      await wait(0);
      out.push({ device_id: d.device_id, display_name: d.display_name ?? null, created_at: d.created_at ?? null, current, fingerprint: this.fingerprint(me, current ? local.signing_key : d.signing_key), mismatch, listed: true });
    }
    if (!out.some((d) => d.current)) out.unshift({ device_id: this.deviceId, display_name: deviceName(), created_at: null, current: true, fingerprint: this.fingerprint(me, local.signing_key), mismatch: false, listed: false });
    return out;
  }

  private fingerprint(user: string, signingKey: string): string {
    const key = `${user}:${signingKey}`;
    let f = this.fingerprints.get(key);
    if (!f) this.fingerprints.set(key, (f = keyFingerprint(user, signingKey)));
    return f;
  }

  /** Uploads one-time prekeys when the server holds few, and a new signed prekey once a month. */
  async topUp(): Promise<void> {
    const path = `/api/e2ee_keys/devices/${this.deviceId}/prekeys/`;
    const { one_time_prekeys: left } = await this.api.get<{ one_time_prekeys: number }>(path);
    const body: Record<string, unknown> = {};
    if (left < PREKEYS_LOW) body.one_time_prekeys = await this.e2ee.refillOneTimePrekeys(Math.min(100, PREKEYS_TARGET - left));
    const device = await this.store.get<{ signed_prekeys?: Array<{ created_at: number }> }>('device');
    const spkAt = device?.signed_prekeys?.at(-1)?.created_at ?? Date.now();
    if (Date.now() - spkAt > SIGNED_PREKEY_MAX_AGE_MS) body.signed_prekey = await this.e2ee.rotateSignedPrekey();
    if (Object.keys(body).length) await this.api.post(path, body);
  }

  // ---- the inbox ----

  private inInbox<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.inbox.then(fn);
    this.inbox = run.catch(() => undefined);
    return run;
  }

  /** A `to_device` frame from the socket: opened at once; acknowledged with the next drain of the queue. */
  onToDevice(frame: ToDeviceFrame): void {
    void this.inInbox(() => this.receive(frame));
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.drainTimer = setTimeout(() => {
      this.drainTimer = null;
      void this.drain().catch(() => undefined);
    }, DRAIN_AFTER_MS);
  }

  private async receive(frame: ToDeviceFrame): Promise<void> {
    if (this.handled.has(frame.id) || this.closed) return;
    this.handled.add(frame.id);
    try {
      const got = await this.e2ee.receiveEnvelope(frame.envelope, { sender: frame.sender, sender_device: frame.sender_device });
      if (got.imported) this.hooks.keysArrived(Number(got.imported.room));
    } catch (err) {
      if (err instanceof IdentityChangedError) {
        const key = `${err.user}:${err.device_id}`;
        this.held.set(key, [...(this.held.get(key) ?? []), frame]);
        this.hooks.identityChanged({ user: Number(err.user), device_id: err.device_id, known: err.known, seen: err.seen });
      }
      // Anything else (a replay, a tampered or misaddressed envelope) is dropped, and acknowledged with the rest.
    }
  }

  /** Reads the device's queue (oldest first), opens what was not seen yet, and acknowledges each page read. */
  drain(): Promise<void> {
    return this.inInbox(async () => {
      for (;;) {
        if (this.closed) return;
        const page = await this.api.get<ToDeviceFrame[]>('/api/e2ee_keys/to_device/', { device_id: this.deviceId, limit: 100 });
        if (!page.length) return;
        for (const frame of page) await this.receive(frame);
        const upTo = page[page.length - 1].id;
        await this.api.post('/api/e2ee_keys/to_device/ack/', { device_id: this.deviceId, up_to: upTo });
        for (const id of this.handled) if (id <= upTo) this.handled.delete(id);
        if (page.length < 100) return;
      }
    });
  }

  // ---- rooms ----

  /** Runs `fn` after whatever else is under way for the room (sharing, rotating, encrypting). */
  private inRoom<T>(room: number, fn: () => Promise<T>): Promise<T> {
    const run = (this.rooms.get(room) ?? Promise.resolve()).then(fn, fn);
    const settled = run.catch(() => undefined);
    this.rooms.set(room, settled);
    void settled.then(() => {
      if (this.rooms.get(room) === settled) this.rooms.delete(room);
    });
    return run;
  }

  /** A room event that changes who may read: rotate on a departure, share with newcomers. */
  onRoomEvent(type: string, room: number, user: number, deviceId?: string): void {
    this.roomDevices.delete(room);
    if (this.closed) return;
    if (type === 'member_left' || type === 'device_removed') {
      void this.inRoom(room, () => this.e2ee.rotateRoomSession(room)).catch(() => undefined);
    } else if (type === 'member_joined' || type === 'device_added') {
      if (String(user) === this.e2ee.user && deviceId === this.deviceId) return;
      // Only a session we have: the newcomer gets its key at the current index (reads from now on).
      void this.inRoom(room, async () => {
        if (await this.e2ee.roomSession(room)) await this.shareRoom(room);
      }).catch(() => undefined);
    }
  }

  /** The room's member devices we may send keys to: a device whose keys changed is left out (and reported). */
  private async roomTargets(room: number): Promise<Array<{ user: number; device_id: string }>> {
    const devices = await this.listRoomDevices(room);
    const targets: Array<{ user: number; device_id: string }> = [];
    for (const d of devices) {
      if (String(d.user) === this.e2ee.user && d.device_id === this.deviceId) continue;
      const known = await this.known(d.user, d.device_id);
      if (known && (known.identity_key !== d.identity_key || known.signing_key !== d.signing_key)) {
        this.hooks.identityChanged({ user: d.user, device_id: d.device_id, known, seen: { identity_key: d.identity_key, signing_key: d.signing_key } });
        continue;
      }
      targets.push({ user: d.user, device_id: d.device_id });
    }
    return targets;
  }

  /** The room's member devices: as read before while the socket has stayed live since, else asked for. */
  private listRoomDevices(room: number): Promise<DeviceInfo[]> {
    const epoch = this.hooks.liveEpoch();
    const kept = this.roomDevices.get(room);
    if (kept && epoch !== null && kept.epoch === epoch) return kept.list;
    const list = this.api.get<DeviceInfo[]>(`/api/chat_rooms/${room}/devices/`);
    if (epoch === null) {
      this.roomDevices.delete(room);
      return list;
    }
    const entry = { epoch, list };
    this.roomDevices.set(room, entry);
    list.catch(() => {
      if (this.roomDevices.get(room) === entry) this.roomDevices.delete(room);
    });
    return list;
  }

  /** Makes sure our session in the room is current and every member device has its key. */
  private async shareRoom(room: number): Promise<void> {
    const targets = await this.roomTargets(room);
    const { unshared } = await this.e2ee.ensureRoomSession(room, targets);
    if (!unshared.length) return;
    const first = await this.e2ee.shareRoomKey(room, unshared);
    await this.deliver(room, first);
    if (!first.missing.length) return;
    const bundles = await this.claim(first.missing);
    if (bundles.length) await this.deliver(room, await this.e2ee.shareRoomKey(room, bundles));
  }

  /**
   * Posts envelopes to the to-device queue. The library marks their devices as having the key
   * when it makes them, so when they cannot be posted the session is dropped: the next message
   * starts a new one and shares it again with everyone.
   */
  private async deliver(room: number, result: ToDeviceResult): Promise<void> {
    this.report(result.identityChanges);
    try {
      for (let i = 0; i < result.envelopes.length; i += ENVELOPES_PER_REQUEST) {
        const messages = result.envelopes.slice(i, i + ENVELOPES_PER_REQUEST);
        await this.api.post('/api/e2ee_keys/to_device/', { sender_device: this.deviceId, messages });
      }
    } catch (err) {
      await this.e2ee.rotateRoomSession(room);
      throw err;
    }
  }

  private report(changes: IdentityChange[]): void {
    for (const c of changes) this.hooks.identityChanged({ user: Number(c.user), device_id: c.device_id, known: c.known, seen: c.seen });
  }

  /** Claims one bundle per device (200 a request), waiting as the server's rate limit asks. */
  private async claim(devices: Array<{ user: string; device_id: string }>): Promise<ClaimedBundle[]> {
    const bundles: ClaimedBundle[] = [];
    for (let i = 0; i < devices.length; i += CLAIM_DEVICES_PER_REQUEST) {
      const batch = devices.slice(i, i + CLAIM_DEVICES_PER_REQUEST).map((d) => ({ user: Number(d.user), device_id: d.device_id }));
      for (let attempt = 0; ; attempt++) {
        try {
          bundles.push(...(await this.api.post<{ bundles: ClaimedBundle[] }>('/api/e2ee_keys/devices/claim/', { devices: batch })).bundles);
          break;
        } catch (err) {
          const e = apiError(err);
          const after = e.status === 429 ? (e.retryAfter ?? 5) : null;
          if (after === null || after > MAX_WAIT_S || attempt >= 3 || this.closed) throw err;
          await wait(after * 1000);
        }
      }
    }
    return bundles;
  }

  /** The `content` of a message for the room: shares the session key first where it is missing. */
  encrypt(room: number, plaintext: string): Promise<string> {
    return this.inRoom(room, async () => {
      await this.shareRoom(room);
      return this.e2ee.encryptRoomMessage(room, plaintext);
    });
  }

  /** Decrypts messages of one room, each on its own: the plaintext, or the library's reason. */
  async decrypt(room: number, messages: Array<{ id: number; sender: number; content: string }>): Promise<Decrypted[]> {
    const results = await this.e2ee.decryptRoomMessages(room, messages);
    return results.map((r) => ('error' in r ? { error: r.error.code } : { plaintext: r.plaintext }));
  }

  // ---- identities ----

  /** Trusts a device's new keys (after the warning): held envelopes from it are opened now. */
  async acceptIdentity(change: IdentityWarning): Promise<void> {
    await this.e2ee.acceptIdentity(change.user, change.device_id, change.seen);
    const key = `${change.user}:${change.device_id}`;
    this.identities.delete(key);
    this.roomDevices.clear();
    const frames = this.held.get(key) ?? [];
    this.held.delete(key);
    for (const frame of frames) {
      this.handled.delete(frame.id);
      await this.inInbox(() => this.receive(frame));
    }
  }

  /** A contact's devices with the safety number of each (with this device). */
  async safety(user: number): Promise<DeviceSafety[]> {
    const devices = await this.api.get<DeviceInfo[]>('/api/e2ee_keys/devices/', { user });
    const out: DeviceSafety[] = [];
    for (const d of devices) {
      if (String(d.user) === this.e2ee.user && d.device_id === this.deviceId) continue;
      const known = await this.e2ee.knownIdentity(d.user, d.device_id);
      const trust = !known ? 'new' : known.identity_key === d.identity_key && known.signing_key === d.signing_key ? 'known' : 'changed';
      if (known && trust === 'changed') this.hooks.identityChanged({ user: d.user, device_id: d.device_id, known: { identity_key: known.identity_key, signing_key: known.signing_key }, seen: { identity_key: d.identity_key, signing_key: d.signing_key } });
      out.push({ device_id: d.device_id, display_name: d.display_name ?? null, created_at: d.created_at ?? null, safety_number: this.e2ee.safetyNumber(d.user, d.signing_key), trust });
    }
    return out;
  }

  // ---- files ----

  async encryptFile(data: ArrayBuffer, meta: { name: string; mime: string }): Promise<{ ciphertext: Uint8Array; info: EncryptedFile }> {
    return encryptAttachment(data, meta);
  }

  async decryptFile(data: ArrayBuffer, info: EncryptedFile): Promise<Uint8Array> {
    return decryptAttachment(data, info);
  }
}
