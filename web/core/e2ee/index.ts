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
  skipIndices,
  startGroupMessage,
  ROTATE_AFTER_MESSAGES,
} from './group.js';
import { InboundSessions } from './inbound-sessions.js';
import { BLOCK_SIZE, type Block, OutboundBlocks } from './outbound-blocks.js';
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

/** What ensureRoomSession found or made. */
export interface RoomSessionState {
  session_id: string;
  rotated: boolean;
  /** Member devices that do not have the session's key yet. */
  unshared: Array<{ user: string; device_id: string }>;
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
  /** Indices of our outbound sessions this page encrypts with, without a lock per message. */
  private readonly outbound: OutboundBlocks;
  /** The sessions we read with, and their seen indices, in memory in front of the store. */
  private readonly inbound: InboundSessions;

  private constructor(
    private readonly store: KeyValueStore,
    private device: DeviceRecord,
  ) {
    this.outbound = new OutboundBlocks(device.device_id);
    this.inbound = new InboundSessions(store);
  }

  /** Lets go of this page's outbound blocks and stops listening to other tabs (log-out); resolves once seen indices are written. */
  close(): Promise<void> {
    this.outbound.close();
    return this.inbound.flushed();
  }

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
    return this.changingOutbound(async () => {
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
          inbound = importKeyOf(key, sender, await this.inbound.get(String(key.room), String(key.session_id), 0));
        } catch (e) {
          throw e instanceof E2eeError ? new DecryptError('malformed', e.message) : e;
        }
        await this.inbound.put(inbound);
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
  async ensureRoomSession(room: string | number, devices: DeviceRef[], now = Date.now()): Promise<RoomSessionState> {
    const r = String(room);
    const me = refKey(this.device.user, this.device.device_id);
    const wanted = devices.map((d) => ({ user: String(d.user), device_id: d.device_id })).filter((d) => refKey(d.user, d.device_id) !== me);
    const wantedKeys = new Set(wanted.map((d) => refKey(d.user, d.device_id)));
    const current = (session: OutboundGroupSession | undefined): session is OutboundGroupSession =>
      !!session && !needsRotation(session, now) && session.shared_with.every((k) => wantedKeys.has(k));
    const state = (session: OutboundGroupSession, rotated: boolean): RoomSessionState => {
      const shared = new Set(session.shared_with);
      return { session_id: session.session_id, rotated, unshared: wanted.filter((d) => !shared.has(refKey(d.user, d.device_id))) };
    };
    // A block of this page has the session as it is: only an exclusive change could alter it, and
    // that would have dropped the block.
    const block = this.outbound.current(r)?.session;
    if (current(block)) return state(block, false);
    const stored = await this.store.get<OutboundGroupSession>(storeKeys.outboundGroup(r));
    if (current(stored)) return state(stored, false);
    return this.changingOutbound(async () => {
      const session = await this.store.get<OutboundGroupSession>(storeKeys.outboundGroup(r));
      if (current(session)) return state(session, false);
      return state(await this.newOutbound(r, await this.freshDevice(), now), true);
    });
  }

  private async newOutbound(room: string, device: DeviceRecord, now: number): Promise<OutboundGroupSession> {
    const session = createOutboundSession(room, device, now);
    await this.inbound.put(inboundFromOutbound(session, device, now));
    await this.store.put(storeKeys.outboundGroup(room), session);
    return session;
  }

  /** Drops our outbound session in the room (membership changed): the next ensureRoomSession makes a new one. */
  rotateRoomSession(room: string | number): Promise<void> {
    return this.changingOutbound(() => this.store.delete(storeKeys.outboundGroup(String(room))));
  }

  /** The current session key of our outbound session in the room (to send through envelopes); E2eeError when none. */
  exportSessionKey(room: string | number): Promise<SessionKey> {
    return this.changingOutbound(async () => {
      const session = await this.store.get<OutboundGroupSession>(storeKeys.outboundGroup(String(room)));
      if (!session) throw new E2eeError('no outbound session in this room');
      return exportKeyOf(session, this.device);
    });
  }

  /** Imports a session key received from a device whose signing key we verified (receiveEnvelope does this itself). */
  importSessionKey(key: SessionKey, from: DeviceRef & { signing_key: string }): Promise<{ room: string; session_id: string; first_index: number }> {
    return this.lock(async () => {
      const existing = await this.inbound.get(String(key.room), String(key.session_id), 0);
      const inbound = importKeyOf(key, { user: String(from.user), device_id: from.device_id, signing_key: from.signing_key }, existing);
      await this.inbound.put(inbound);
      return { room: inbound.room, session_id: inbound.session_id, first_index: inbound.first_index };
    });
  }

  /** Sends the room's current session key to the devices (channels or claimed bundles); marks those reached as shared. */
  shareRoomKey(room: string | number, targets: Array<DeviceRef | ClaimedBundle>): Promise<ToDeviceResult> {
    return this.changingOutbound(async () => {
      const r = String(room);
      const session = await this.store.get<OutboundGroupSession>(storeKeys.outboundGroup(r));
      if (!session) throw new E2eeError('no outbound session in this room: call ensureRoomSession first');
      const result = await this.encryptForDevicesLocked(targets, exportKeyOf(session, this.device) as unknown as ToDevicePayload);
      const shared = new Set([...session.shared_with, ...result.envelopes.map((e) => refKey(e.user, e.device_id))]);
      await this.store.put(storeKeys.outboundGroup(r), { ...session, shared_with: [...shared] });
      return result;
    });
  }

  /**
   * Encrypts a message for the room with our current outbound session: the `content` to send.
   * From this page's block of the session's indices; a new block is reserved in the store when
   * it runs out (outbound-blocks.ts).
   */
  encryptRoomMessage(room: string | number, plaintext: string, now = Date.now()): Promise<string> {
    const r = String(room);
    return withLocalLock(`chat-e2ee-send:${this.device.device_id}:${r}`, () =>
      this.outbound.use(async (keep) => {
        let block = this.outbound.current(r);
        if (!block || needsRotation(block.session, now)) {
          block = await this.reserve(r, now);
          keep(r, block);
        }
        const out = await encryptGroupMessage(block.session, this.device, utf8(plaintext));
        block.session = out.session;
        return out.content;
      }),
    );
  }

  /** Moves the stored session past the next BLOCK_SIZE indices (fewer before its rotation) and returns them. */
  private reserve(room: string, now: number): Promise<Block> {
    return this.lock(async () => {
      const key = storeKeys.outboundGroup(room);
      const session = await this.store.get<OutboundGroupSession>(key);
      if (!session || needsRotation(session, now)) throw new E2eeError('no current session in this room: call ensureRoomSession and share its key first');
      const count = Math.min(BLOCK_SIZE, ROTATE_AFTER_MESSAGES - session.message_count);
      await this.store.put(key, skipIndices(session, count));
      return { session, end: session.index + count };
    });
  }

  /** Runs `fn` under the device lock once no tab holds a block of our outbound sessions. */
  private changingOutbound<T>(fn: () => Promise<T>): Promise<T> {
    return this.outbound.exclusive(() => this.lock(fn));
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
   * key records, only the sessions' seen indices (kept in memory, merged into the store behind the
   * caller; inbound-sessions.ts), so it takes no lock across tabs.
   */
  decryptRoomMessages(room: string | number, messages: RoomMessage[]): Promise<RoomDecryption[]> {
    return withLocalLock(`chat-e2ee-seen:${this.device.device_id}`, async () => {
      const r = String(room);
      const started: Array<{ session: InboundGroupSession; pending: PendingGroupMessage } | DecryptError> = [];
      for (const message of messages) {
        try {
          const payload = parseGroupContent(message.content);
          const session = await this.inbound.get(r, payload.session_id, payload.index);
          if (!session) throw new DecryptError('unknown_session', 'no key for this message’s session');
          started.push({ session, pending: startGroupMessage(session, r, message, payload) });
        } catch (e) {
          started.push(asDecryptError(e));
        }
      }
      const fresh = new Map<string, SeenIndices>();
      const out: RoomDecryption[] = [];
      for (const [i, item] of started.entries()) {
        const id = messages[i].id;
        if (item instanceof DecryptError) {
          out.push({ id, error: item });
          continue;
        }
        try {
          const sid = item.pending.payload.session_id;
          const seen = await this.inbound.seenOf(r, sid);
          const d = await finishGroupMessage(item.session, item.pending, this.cache, seen);
          if (d.fresh) {
            seen[d.index] = d.mark;
            fresh.set(sid, { ...fresh.get(sid), [d.index]: d.mark });
          }
          out.push({ id, plaintext: fromUtf8(d.plaintext) });
        } catch (e) {
          out.push({ id, error: asDecryptError(e) });
        }
      }
      for (const [sid, marks] of fresh) this.inbound.record(r, sid, marks);
      return out;
    });
  }
}
