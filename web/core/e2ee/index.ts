// The E2EE façade the client glue calls: one E2ee per signed-in browser device, over a
// KeyValueStore (IndexedDbStore in the browser, MemoryStore in tests). It loads and saves the
// state records around the pure protocol modules and serialises changes (Web Locks across tabs
// where the browser has them). Private keys never leave the store through it: the only secret it
// hands out is a room session key, inside a pairwise envelope.
import { type ClaimedBundle, type DeviceRecord, type DeviceUpload, type OneTimePrekeyPublic, type SignedPrekeyPublic, type StoredOneTimePrekey, createDeviceRecord, currentSignedPrekey, deviceUpload, makeOneTimePrekeys, rotateSignedPrekey, verifyBundle } from './device.js';
import { BundleError, DecryptError, type DeviceIdentity, E2eeError } from './errors.js';
import { fromUtf8, utf8 } from './encoding.js';
import {
  type InboundGroupSession,
  type OutboundGroupSession,
  type RoomMessage,
  type SeenIndices,
  type SessionKey,
  RatchetCache,
  createOutboundSession,
  type PendingGroupMessage,
  encryptGroupMessage,
  finishGroupMessage,
  exportSessionKey as exportKeyOf,
  importSessionKey as importKeyOf,
  inboundFromOutbound,
  needsRotation,
  parseGroupContent,
  startGroupMessage,
} from './group.js';
import { type InboundChannel, type OutboundChannel, openEnvelope, openOutboundChannel, parseEnvelope, sealEnvelope } from './pairwise.js';
import { safetyNumber } from './safety.js';
import { type KeyValueStore, storeKeys } from './store.js';

export { BundleError, DecryptError, E2eeError, IdentityChangedError, type DecryptCode, type DeviceIdentity } from './errors.js';
export { type ClaimedBundle, type DeviceUpload, type OneTimePrekeyPublic, type SignedPrekeyPublic, isDeviceId } from './device.js';
export { type RoomMessage, type SessionKey, CONTENT_PREFIX, ROTATE_AFTER_MESSAGES, ROTATE_AFTER_MS, isEncryptedContent, needsRotation } from './group.js';
export { MAX_ENVELOPE_BYTES } from './pairwise.js';
export { type AttachmentInfo, decryptAttachment, encryptAttachment } from './attachments.js';
export { safetyNumber, type SafetySide } from './safety.js';
export { IndexedDbStore, MemoryStore, type KeyValueStore } from './store.js';
export { setEd25519Backend } from './primitives.js';

/** A device of some user. */
export interface DeviceRef {
  user: string | number;
  device_id: string;
}

/** What goes through a pairwise envelope: a JSON object with a string `type`. */
export interface ToDevicePayload {
  type: string;
  [field: string]: unknown;
}

/** A known device whose claimed keys differ from the ones we recorded. */
export interface IdentityChange {
  user: string;
  device_id: string;
  known: DeviceIdentity;
  seen: DeviceIdentity;
}

/** The outcome of encrypting for devices: envelopes to send, and who was left out and why. */
export interface ToDeviceResult {
  envelopes: Array<{ user: string; device_id: string; envelope: string }>;
  /** Devices without a channel yet: claim their bundles and call again with them. */
  missing: Array<{ user: string; device_id: string }>;
  /** Devices whose keys changed: not encrypted to until acceptIdentity(). */
  identityChanges: IdentityChange[];
  /** Bundles that were malformed or badly signed. */
  failures: Array<{ user: string; device_id: string; error: string }>;
}

/** A decrypted envelope: who sent it and the payload; room keys are imported already. */
export interface Received {
  sender_user: string;
  sender_device: string;
  sender_signing: string;
  payload: ToDevicePayload;
  /** Set when the payload was a room key and it was imported. */
  imported?: { room: string; session_id: string; first_index: number };
}

/** A recorded device identity (trust on first use). */
export interface KnownIdentity extends DeviceIdentity {
  first_seen: number;
}

/** Per-message outcome of decryptRoomMessages. */
export type RoomDecryption = { id: string | number; plaintext: string } | { id: string | number; error: DecryptError };

/** Default number of one-time prekeys a new device uploads. */
export const DEFAULT_ONE_TIME_PREKEYS = 50;

const refKey = (user: string, device: string) => `${user}:${device}`;
const asDecryptError = (e: unknown): DecryptError => (e instanceof DecryptError ? e : new DecryptError('malformed', e instanceof Error ? e.message : String(e)));
const isBundle = (t: DeviceRef | ClaimedBundle): t is ClaimedBundle => 'identity_key' in t && 'signed_prekey' in t;

const localChains = new Map<string, Promise<unknown>>();
/** Runs `fn` alone under `name` within this page. */
function withLocalLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const run = (localChains.get(name) ?? Promise.resolve()).then(fn, fn);
  localChains.set(name, run.catch(() => undefined));
  return run;
}

/** Runs `fn` alone under `name`: across tabs with Web Locks, else within this page. */
function withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  if (locks?.request) return locks.request(name, fn) as Promise<T>;
  return withLocalLock(name, fn);
}

/** One browser's E2EE device and its state. */
export class E2ee {
  private readonly cache = new RatchetCache();

  private constructor(
    private readonly store: KeyValueStore,
    private device: DeviceRecord,
  ) {}

  /** This browser's device from the store, or null when it has none yet. */
  static async load(store: KeyValueStore): Promise<E2ee | null> {
    const device = await store.get<DeviceRecord>(storeKeys.device);
    return device ? new E2ee(store, device) : null;
  }

  /** Makes and stores a new device for `user` with one-time prekeys; returns it and the body to upload. */
  static async createDevice(store: KeyValueStore, user: string | number, oneTimePrekeys = DEFAULT_ONE_TIME_PREKEYS): Promise<{ e2ee: E2ee; upload: DeviceUpload }> {
    const device = await createDeviceRecord(user);
    const opks = makeOneTimePrekeys(device, oneTimePrekeys);
    for (const k of opks) await store.put(storeKeys.oneTimePrekey(k.key_id), k);
    await store.put(storeKeys.device, device);
    return { e2ee: new E2ee(store, device), upload: deviceUpload(device, opks) };
  }

  /** Our device id. */
  get deviceId(): string {
    return this.device.device_id;
  }

  /** Our user id. */
  get user(): string {
    return this.device.user;
  }

  /** Our public identity: device id, X25519 identity key, Ed25519 signing key. */
  get publicIdentity(): DeviceIdentity & { device_id: string } {
    return { device_id: this.device.device_id, identity_key: this.device.identity.public_key, signing_key: this.device.signing.public_key };
  }

  /** The upload body again (current signed prekey, no one-time prekeys): public keys only. */
  upload(): DeviceUpload {
    return deviceUpload(this.device);
  }

  private lock<T>(fn: () => Promise<T>): Promise<T> {
    return withLock(`chat-e2ee:${this.device.device_id}`, fn);
  }

  private async freshDevice(): Promise<DeviceRecord> {
    this.device = (await this.store.get<DeviceRecord>(storeKeys.device)) ?? this.device;
    return this.device;
  }

  /** How many one-time prekey private keys we still hold (unused on our side). */
  async oneTimePrekeyCount(): Promise<number> {
    return (await this.store.keys(storeKeys.oneTimePrekeys)).length;
  }

  /** Makes `count` more one-time prekeys (≤ 100); returns their public halves to upload. */
  refillOneTimePrekeys(count: number): Promise<OneTimePrekeyPublic[]> {
    return this.lock(async () => {
      const device = await this.freshDevice();
      const opks = makeOneTimePrekeys(device, count);
      for (const k of opks) await this.store.put(storeKeys.oneTimePrekey(k.key_id), k);
      await this.store.put(storeKeys.device, device);
      return opks.map((k) => ({ key_id: k.key_id, public_key: k.public_key }));
    });
  }

  /** Makes a new signed prekey current (the previous one still opens envelopes); returns it to upload. */
  rotateSignedPrekey(): Promise<SignedPrekeyPublic> {
    return this.lock(async () => {
      const device = await rotateSignedPrekey(await this.freshDevice());
      await this.store.put(storeKeys.device, device);
      const spk = currentSignedPrekey(device);
      return { key_id: spk.key_id, public_key: spk.public_key, signature: spk.signature };
    });
  }

  /** The identity we recorded for a device, if any. */
  knownIdentity(user: string | number, deviceId: string): Promise<KnownIdentity | undefined> {
    return this.store.get<KnownIdentity>(storeKeys.identity(String(user), deviceId));
  }

  /**
   * Accepts new keys for a device after the user saw the warning: its old outbound channel is
   * dropped, and so is every outbound room session that device had (whoever held the old keys
   * gets nothing new).
   */
  acceptIdentity(user: string | number, deviceId: string, keys: DeviceIdentity): Promise<void> {
    return this.lock(async () => {
      const u = String(user);
      await this.store.put(storeKeys.identity(u, deviceId), { identity_key: keys.identity_key, signing_key: keys.signing_key, first_seen: Date.now() } satisfies KnownIdentity);
      await this.store.delete(storeKeys.outboundChannel(u, deviceId));
      for (const key of await this.store.keys(storeKeys.outboundGroups)) {
        const session = await this.store.get<OutboundGroupSession>(key);
        if (session?.shared_with.includes(refKey(u, deviceId))) await this.store.delete(key);
      }
    });
  }

  /** The safety number between us and another device (12 groups of 5 digits). */
  safetyNumber(user: string | number, signingKey: string): string {
    return safetyNumber({ user: this.device.user, signing_key: this.device.signing.public_key }, { user, signing_key: signingKey });
  }

  /** Encrypts a payload for each device: over its channel, or a new one from its claimed bundle. */
  encryptForDevices(targets: Array<DeviceRef | ClaimedBundle>, payload: ToDevicePayload): Promise<ToDeviceResult> {
    return this.lock(() => this.encryptForDevicesLocked(targets, payload));
  }

  private async encryptForDevicesLocked(targets: Array<DeviceRef | ClaimedBundle>, payload: ToDevicePayload): Promise<ToDeviceResult> {
    const device = await this.freshDevice();
    const plaintext = utf8(JSON.stringify(payload));
    const result: ToDeviceResult = { envelopes: [], missing: [], identityChanges: [], failures: [] };
    for (const target of targets) {
      const user = String(target.user);
      const deviceId = target.device_id;
      if (user === device.user && deviceId === device.device_id) continue;
      let channel = await this.store.get<OutboundChannel>(storeKeys.outboundChannel(user, deviceId));
      const known = await this.knownIdentity(user, deviceId);
      if (isBundle(target)) {
        const seen = { identity_key: target.identity_key, signing_key: target.signing_key };
        const reference = known ?? (channel ? { identity_key: channel.identity_key, signing_key: channel.signing_key } : undefined);
        if (reference && (reference.identity_key !== seen.identity_key || reference.signing_key !== seen.signing_key)) {
          result.identityChanges.push({ user, device_id: deviceId, known: { identity_key: reference.identity_key, signing_key: reference.signing_key }, seen });
          continue;
        }
        if (!channel) {
          try {
            channel = openOutboundChannel(device, await verifyBundle(target));
          } catch (e) {
            if (!(e instanceof BundleError)) throw e;
            result.failures.push({ user, device_id: deviceId, error: e.message });
            continue;
          }
          if (!known) await this.store.put(storeKeys.identity(user, deviceId), { ...seen, first_seen: Date.now() } satisfies KnownIdentity);
        }
      }
      if (!channel) {
        result.missing.push({ user, device_id: deviceId });
        continue;
      }
      const sealed = await sealEnvelope(device, channel, plaintext);
      await this.store.put(storeKeys.outboundChannel(user, deviceId), sealed.channel);
      result.envelopes.push({ user, device_id: deviceId, envelope: sealed.envelope });
    }
    return result;
  }

  /**
   * Decrypts an envelope addressed to this device. `from` is the sender the server's queue names
   * (`sender`, null once the account is deleted, and `sender_device`), checked against the signed
   * header: a device cannot claim to be another user's. Room keys inside are
   * imported. DecryptError, or IdentityChangedError for a known device with new keys; nothing is
   * stored on a failure before the envelope is authenticated, and an authentic envelope is
   * consumed even when its payload is refused.
   */
  receiveEnvelope(envelope: string, from: { sender: string | number | null; sender_device: string }): Promise<Received> {
    return this.lock(async () => {
      const device = await this.freshDevice();
      const env = parseEnvelope(envelope);
      if ((from.sender !== null && String(from.sender) !== env.sender_user) || from.sender_device !== env.sender_device) {
        throw new DecryptError('sender_mismatch', 'envelope sender differs from the server’s');
      }
      const known = await this.knownIdentity(env.sender_user, env.sender_device);
      const channel = await this.store.get<InboundChannel>(storeKeys.inboundChannel(env.sender_device, env.eph));
      const opk = env.opk_id !== null && !channel ? await this.store.get<StoredOneTimePrekey>(storeKeys.oneTimePrekey(env.opk_id)) : undefined;
      const opened = await openEnvelope(envelope, { device, known, channel, oneTimePrekey: opk });
      // Authentic and fresh: the envelope is consumed whatever its payload turns out to be.
      await this.store.put(storeKeys.inboundChannel(env.sender_device, env.eph), opened.channel);
      if (opened.consumedOneTimePrekey !== null) await this.store.delete(storeKeys.oneTimePrekey(opened.consumedOneTimePrekey));
      if (opened.newIdentity) await this.store.put(storeKeys.identity(env.sender_user, env.sender_device), { identity_key: env.sender_identity, signing_key: env.sender_signing, first_seen: Date.now() } satisfies KnownIdentity);
      let payload: ToDevicePayload;
      try {
        payload = JSON.parse(fromUtf8(opened.plaintext));
        if (!payload || typeof payload !== 'object' || typeof payload.type !== 'string') throw new Error('payload');
      } catch {
        throw new DecryptError('malformed', 'envelope payload is not a typed JSON object');
      }
      let imported: Received['imported'];
      if (payload.type === 'room_key') {
        const key = payload as unknown as SessionKey;
        const sender = { user: env.sender_user, device_id: env.sender_device, signing_key: env.sender_signing };
        let inbound: InboundGroupSession;
        try {
          const existing = await this.store.get<InboundGroupSession>(storeKeys.inboundGroup(String(key.room), String(key.session_id)));
          inbound = importKeyOf(key, sender, existing);
        } catch (e) {
          throw e instanceof E2eeError ? new DecryptError('malformed', e.message) : e;
        }
        await this.store.put(storeKeys.inboundGroup(inbound.room, inbound.session_id), inbound);
        imported = { room: inbound.room, session_id: inbound.session_id, first_index: inbound.first_index };
      }
      return { sender_user: env.sender_user, sender_device: env.sender_device, sender_signing: env.sender_signing, payload, imported };
    });
  }

  /** Our outbound session in a room: its id, counters and who has its key; null when none. */
  async roomSession(room: string | number): Promise<Omit<OutboundGroupSession, 'chain_key'> | null> {
    const s = await this.store.get<OutboundGroupSession>(storeKeys.outboundGroup(String(room)));
    if (!s) return null;
    const { chain_key: _secret, ...rest } = s;
    return rest;
  }

  /**
   * Makes sure we have a current outbound session for the room's member devices: a new one when
   * there is none, it is due (100 messages, 7 days), or a device it was shared with is no longer
   * among `devices` (someone left or a device was removed). Returns the devices still to share it with.
   */
  ensureRoomSession(room: string | number, devices: DeviceRef[], now = Date.now()): Promise<{ session_id: string; rotated: boolean; unshared: Array<{ user: string; device_id: string }> }> {
    return this.lock(async () => {
      const r = String(room);
      const device = await this.freshDevice();
      const wanted = devices.map((d) => ({ user: String(d.user), device_id: d.device_id })).filter((d) => !(d.user === device.user && d.device_id === device.device_id));
      const wantedKeys = new Set(wanted.map((d) => refKey(d.user, d.device_id)));
      let session = await this.store.get<OutboundGroupSession>(storeKeys.outboundGroup(r));
      let rotated = false;
      if (!session || needsRotation(session, now) || session.shared_with.some((k) => !wantedKeys.has(k))) {
        session = await this.newOutbound(r, device, now);
        rotated = true;
      }
      const shared = new Set(session.shared_with);
      return { session_id: session.session_id, rotated, unshared: wanted.filter((d) => !shared.has(refKey(d.user, d.device_id))) };
    });
  }

  private async newOutbound(room: string, device: DeviceRecord, now: number): Promise<OutboundGroupSession> {
    const session = createOutboundSession(room, device, now);
    await this.store.put(storeKeys.inboundGroup(room, session.session_id), inboundFromOutbound(session, device, now));
    await this.store.put(storeKeys.outboundGroup(room), session);
    return session;
  }

  /** Drops our outbound session in the room (membership changed): the next ensureRoomSession makes a new one. */
  rotateRoomSession(room: string | number): Promise<void> {
    return this.lock(() => this.store.delete(storeKeys.outboundGroup(String(room))));
  }

  /** The current session key of our outbound session in the room (to send through envelopes); E2eeError when none. */
  async exportSessionKey(room: string | number): Promise<SessionKey> {
    const session = await this.store.get<OutboundGroupSession>(storeKeys.outboundGroup(String(room)));
    if (!session) throw new E2eeError('no outbound session in this room');
    return exportKeyOf(session, this.device);
  }

  /** Imports a session key received from a device whose signing key we verified (receiveEnvelope does this itself). */
  importSessionKey(key: SessionKey, from: DeviceRef & { signing_key: string }): Promise<{ room: string; session_id: string; first_index: number }> {
    return this.lock(async () => {
      const existing = await this.store.get<InboundGroupSession>(storeKeys.inboundGroup(String(key.room), String(key.session_id)));
      const inbound = importKeyOf(key, { user: String(from.user), device_id: from.device_id, signing_key: from.signing_key }, existing);
      await this.store.put(storeKeys.inboundGroup(inbound.room, inbound.session_id), inbound);
      return { room: inbound.room, session_id: inbound.session_id, first_index: inbound.first_index };
    });
  }

  /** Sends the room's current session key to the devices (channels or claimed bundles); marks those reached as shared. */
  shareRoomKey(room: string | number, targets: Array<DeviceRef | ClaimedBundle>): Promise<ToDeviceResult> {
    return this.lock(async () => {
      const r = String(room);
      const session = await this.store.get<OutboundGroupSession>(storeKeys.outboundGroup(r));
      if (!session) throw new E2eeError('no outbound session in this room: call ensureRoomSession first');
      const result = await this.encryptForDevicesLocked(targets, exportKeyOf(session, this.device) as unknown as ToDevicePayload);
      const shared = new Set([...session.shared_with, ...result.envelopes.map((e) => refKey(e.user, e.device_id))]);
      await this.store.put(storeKeys.outboundGroup(r), { ...session, shared_with: [...shared] });
      return result;
    });
  }

  /** Encrypts a message for the room with our current outbound session: the `content` to send. */
  encryptRoomMessage(room: string | number, plaintext: string, now = Date.now()): Promise<string> {
    return this.lock(async () => {
      const r = String(room);
      const device = this.device; // its signing key never changes: no need to re-read it
      const session = await this.store.get<OutboundGroupSession>(storeKeys.outboundGroup(r));
      if (!session || needsRotation(session, now)) throw new E2eeError('no current session in this room: call ensureRoomSession and share its key first');
      const out = await encryptGroupMessage(session, device, utf8(plaintext));
      await this.store.put(storeKeys.outboundGroup(r), out.session);
      return out.content;
    });
  }

  /** Decrypts one room message (the same message may be decrypted again); DecryptError when it cannot. */
  async decryptRoomMessage(room: string | number, message: RoomMessage): Promise<string> {
    const [result] = await this.decryptRoomMessages(room, [message]);
    if ('error' in result) throw result.error;
    return result.plaintext;
  }

  /**
   * Decrypts many messages of a room, each on its own (one failure never stops the others): all
   * signature checks start together, then each message is decrypted in order. It never rewrites
   * key records, only the sessions' seen indices (merged, one write per session that saw a new
   * index), so it takes no lock across tabs: a race between tabs can at worst forget a seen index.
   */
  decryptRoomMessages(room: string | number, messages: RoomMessage[]): Promise<RoomDecryption[]> {
    return withLocalLock(`chat-e2ee-seen:${this.device.device_id}`, async () => {
      const r = String(room);
      const sessions = new Map<string, InboundGroupSession | null>();
      const started: Array<PendingGroupMessage | DecryptError> = [];
      for (const message of messages) {
        try {
          const payload = parseGroupContent(message.content);
          if (!sessions.has(payload.session_id)) sessions.set(payload.session_id, (await this.store.get<InboundGroupSession>(storeKeys.inboundGroup(r, payload.session_id))) ?? null);
          const session = sessions.get(payload.session_id);
          if (!session) throw new DecryptError('unknown_session', 'no key for this message’s session');
          started.push(startGroupMessage(session, r, message, payload));
        } catch (e) {
          started.push(asDecryptError(e));
        }
      }
      const seen = new Map<string, SeenIndices>();
      const fresh = new Map<string, SeenIndices>();
      const out: RoomDecryption[] = [];
      for (const [i, pending] of started.entries()) {
        const id = messages[i].id;
        if (pending instanceof DecryptError) {
          out.push({ id, error: pending });
          continue;
        }
        try {
          const sid = pending.payload.session_id;
          if (!seen.has(sid)) seen.set(sid, (await this.store.get<SeenIndices>(storeKeys.inboundSeen(r, sid))) ?? {});
          const d = await finishGroupMessage(sessions.get(sid)!, pending, this.cache, seen.get(sid)!);
          if (d.fresh) {
            seen.get(sid)![d.index] = d.mark;
            fresh.set(sid, { ...fresh.get(sid), [d.index]: d.mark });
          }
          out.push({ id, plaintext: fromUtf8(d.plaintext) });
        } catch (e) {
          out.push({ id, error: asDecryptError(e) });
        }
      }
      for (const [sid, marks] of fresh) {
        // Merge into what is stored now (another tab may have added indices meanwhile); theirs win.
        const stored = (await this.store.get<SeenIndices>(storeKeys.inboundSeen(r, sid))) ?? {};
        await this.store.put(storeKeys.inboundSeen(r, sid), { ...marks, ...stored });
      }
      return out;
    });
  }
}
