// Megolm-style sender keys: per (room, sender device) an outbound session whose chain key
// ratchets forward once per message (forward secrecy for the sender), AES-256-GCM with the room,
// sender user, sender device, session and index bound in as AAD, and an Ed25519 signature by the
// sender device over the whole payload. Receivers import the session key at some index and can
// decrypt that index and later ones, never earlier ones.
import { DecryptError, E2eeError } from './errors.js';
import { type Bytes, concat, equalBytes, frame, fromBase64, fromBase64Url, toBase64, toBase64Url, u32, utf8 } from './encoding.js';

import { type DeviceRecord, isDeviceId, keyPairOf } from './device.js';
import { aesGcmDecrypt, aesGcmEncrypt, ed25519Sign, ed25519Verify, randomBytes, sha256 } from './primitives.js';
import { LABELS, advance, aesKeyOf, chainStep } from './ratchet.js';

/** Rotate an outbound session after this many messages... */
export const ROTATE_AFTER_MESSAGES = 100;
/** ...or after this long (7 days), whichever comes first. Membership changes rotate too (the caller). */
export const ROTATE_AFTER_MS = 7 * 24 * 3600 * 1000;
/** How far past the index it was imported at an inbound session ratchets (bounds the work a message can cost). */
export const MAX_RATCHET_STEPS = 10_000;
/** Prefix of encrypted message content. */
export const CONTENT_PREFIX = 'e2ee:1:';

const VERSION = 1;
const SESSION_ID_BYTES = 16;
/** Fixed part of the binary payload: version, session id, device id length, index, IV, signature. */
const FIXED_BYTES = 1 + SESSION_ID_BYTES + 1 + 4 + 12 + 64;
const latin1 = (b: Uint8Array) => String.fromCharCode(...b);

/** Our sending session in a room. */
export interface OutboundGroupSession {
  v: 1;
  room: string;
  /** base64url of 16 random bytes. */
  session_id: string;
  /** Chain key of `index` (base64). */
  chain_key: string;
  /** The next index to send. */
  index: number;
  created_at: number;
  message_count: number;
  sender_user: string;
  sender_device: string;
  /** `user:device` of every device the key was sent to. */
  shared_with: string[];
}

/** A session key as sent to another device inside a pairwise envelope. */
export interface SessionKey {
  type: 'room_key';
  room: string;
  session_id: string;
  index: number;
  chain_key: string;
  sender_signing: string;
}

/** A receiving session: decrypts indices from `first_index` on. */
export interface InboundGroupSession {
  v: 1;
  room: string;
  session_id: string;
  sender_user: string;
  sender_device: string;
  sender_signing: string;
  first_index: number;
  /** Chain key of `first_index` (base64). */
  chain_key: string;
  imported_at: number;
}

/**
 * Per inbound session, index → [message id, digest of its content]: the same index under another
 * message is a replay. Kept apart from the session so decrypting never rewrites the key record.
 */
export type SeenIndices = Record<string, [string, string]>;

/** A message of the room as the server returns it (content is the opaque string we made). */
export interface RoomMessage {
  id: string | number;
  sender: string | number;
  content: string;
}

/** The parts of an encrypted content string. */
export interface GroupPayload {
  session_id: string;
  sender_device: string;
  index: number;
  iv: Bytes;
  sig: Bytes;
  ct: Bytes;
}

/** A fresh outbound session for `room` (random session id and chain key unless given, for vectors). */
export function createOutboundSession(room: string | number, device: DeviceRecord, now = Date.now(), seed?: { session_id: Uint8Array; chain_key: Uint8Array }): OutboundGroupSession {
  return {
    v: 1,
    room: String(room),
    session_id: toBase64Url(seed?.session_id ?? randomBytes(SESSION_ID_BYTES)),
    chain_key: toBase64(seed?.chain_key ?? randomBytes(32)),
    index: 0,
    created_at: now,
    message_count: 0,
    sender_user: device.user,
    sender_device: device.device_id,
    shared_with: [],
  };
}

/** Whether an outbound session is due for rotation: 100 messages sent or 7 days old. */
export function needsRotation(session: Pick<OutboundGroupSession, 'message_count' | 'created_at'>, now = Date.now()): boolean {
  return session.message_count >= ROTATE_AFTER_MESSAGES || now - session.created_at >= ROTATE_AFTER_MS;
}

/**
 * The session moved `count` indices ahead without sending (indices reserved for one tab): its
 * chain key is that of the new index, and the skipped indices count towards rotation.
 */
export function skipIndices(session: OutboundGroupSession, count: number): OutboundGroupSession {
  return { ...session, chain_key: toBase64(advance(fromBase64(session.chain_key, 32), count)), index: session.index + count, message_count: session.message_count + count };
}

/** The session key at the session's current index: what a member device needs to read from now on. */
export function exportSessionKey(session: OutboundGroupSession, device: DeviceRecord): SessionKey {
  return { type: 'room_key', room: session.room, session_id: session.session_id, index: session.index, chain_key: session.chain_key, sender_signing: device.signing.public_key };
}

/** Our own inbound copy of an outbound session (so we read our own messages). */
export function inboundFromOutbound(session: OutboundGroupSession, device: DeviceRecord, now = Date.now()): InboundGroupSession {
  return {
    v: 1,
    room: session.room,
    session_id: session.session_id,
    sender_user: session.sender_user,
    sender_device: session.sender_device,
    sender_signing: device.signing.public_key,
    first_index: session.index,
    chain_key: session.chain_key,
    imported_at: now,
  };
}

function aadOf(room: string, senderUser: string, senderDevice: string, sessionId: Uint8Array, index: number): Bytes {
  return frame('chat-e2ee v1 group aad', room, senderUser, senderDevice, sessionId, index);
}

function signedPart(aad: Uint8Array, iv: Uint8Array, ct: Uint8Array): Bytes {
  return frame('chat-e2ee v1 group message', aad, iv, ct);
}

/** Encrypts one message; returns the content string and the advanced session (the input is not changed). */
export async function encryptGroupMessage(
  session: OutboundGroupSession,
  device: DeviceRecord,
  plaintext: Uint8Array,
  iv: Uint8Array = randomBytes(12),
): Promise<{ content: string; session: OutboundGroupSession }> {
  if (session.sender_device !== device.device_id) throw new E2eeError('outbound session of another device');
  const { messageKey, next } = chainStep(fromBase64(session.chain_key, 32));
  const sid = fromBase64Url(session.session_id, SESSION_ID_BYTES);
  const aad = aadOf(session.room, session.sender_user, session.sender_device, sid, session.index);
  const ct = aesGcmEncrypt(aesKeyOf(messageKey, LABELS.groupKey), iv, plaintext, aad);
  const sig = await ed25519Sign(signedPart(aad, iv, ct), keyPairOf(device.signing));
  const deviceId = utf8(session.sender_device);
  const bytes = concat(new Uint8Array([VERSION]), sid, new Uint8Array([deviceId.length]), deviceId, u32(session.index), iv, sig, ct);
  return {
    content: CONTENT_PREFIX + toBase64Url(bytes),
    session: { ...session, chain_key: toBase64(next), index: session.index + 1, message_count: session.message_count + 1 },
  };
}

/** Whether a message content is one of ours (encrypted). */
export function isEncryptedContent(content: unknown): content is string {
  return typeof content === 'string' && content.startsWith(CONTENT_PREFIX);
}

/** Splits an encrypted content string; DecryptError('malformed' | 'unsupported_version'). */
export function parseGroupContent(content: string): GroupPayload {
  if (!isEncryptedContent(content)) throw new DecryptError('malformed', 'not encrypted content');
  let bytes: Bytes;
  try {
    bytes = fromBase64Url(content.slice(CONTENT_PREFIX.length));
  } catch {
    throw new DecryptError('malformed', 'content is not base64url');
  }
  if (bytes.length < 1) throw new DecryptError('malformed', 'empty content');
  if (bytes[0] !== VERSION) throw new DecryptError('unsupported_version', `content version ${bytes[0]}`);
  let at = 1 + SESSION_ID_BYTES;
  const deviceLength = bytes[at] ?? 0;
  if (deviceLength < 1 || bytes.length < FIXED_BYTES + deviceLength + 16) throw new DecryptError('malformed', 'content too short');
  const session_id = toBase64Url(bytes.subarray(1, at));
  const sender_device = latin1(bytes.subarray(at + 1, (at += 1 + deviceLength)));
  if (!isDeviceId(sender_device)) throw new DecryptError('malformed', 'sender device id');
  const take = (n: number) => bytes.slice(at, (at += n));
  const index = new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0);
  at += 4;
  const iv = take(12);
  const sig = take(64);
  return { session_id, sender_device, index, iv, sig, ct: bytes.slice(at) };
}

/**
 * Chain keys derived so far, per inbound session, in memory only: decrypting many messages of
 * one session ratchets from the nearest derived index instead of from the start each time.
 */
export class RatchetCache {
  private readonly sessions = new Map<string, Map<number, Bytes>>();
  constructor(private readonly maxSessions = 64) {}

  /** The chain key of `index` for a session (index ≥ first_index). */
  chainKey(session: Pick<InboundGroupSession, 'session_id' | 'first_index' | 'chain_key'>, index: number): Bytes {
    const id = `${session.session_id}:${session.first_index}:${session.chain_key}`;
    let keys = this.sessions.get(id);
    if (!keys) {
      if (this.sessions.size >= this.maxSessions) this.sessions.delete(this.sessions.keys().next().value!);
      keys = new Map([[session.first_index, fromBase64(session.chain_key, 32)]]);
      this.sessions.set(id, keys);
    }
    let from = index;
    while (!keys.has(from)) from--;
    let ck = keys.get(from)!;
    for (let i = from; i < index; i++) {
      ck = advance(ck, 1);
      keys.set(i + 1, ck);
    }
    return ck;
  }

  /** Forget everything (e.g. on log-out). */
  clear(): void {
    this.sessions.clear();
  }
}

/** What decrypting a room message gives: the plaintext, and the seen-index mark to record when `fresh`. */
export interface GroupDecrypted {
  plaintext: Bytes;
  index: number;
  mark: [string, string];
  /** First time this index is decrypted: record `mark` under `index` in the session's seen indices. */
  fresh: boolean;
}

function digestOf(content: string): string {
  return toBase64(sha256(utf8(content)).slice(0, 16));
}

/** A message that passed the session checks, with its signature check under way. */
export interface PendingGroupMessage {
  message: RoomMessage;
  payload: GroupPayload;
  aad: Bytes;
  /** The Ed25519 verification (started at once, so many can run side by side on WebCrypto). */
  verified: Promise<boolean>;
}

/**
 * First half of decrypting: the session must be the message's (room, sender, device, index
 * within range); starts the signature check. DecryptError otherwise.
 */
export function startGroupMessage(session: InboundGroupSession, room: string | number, message: RoomMessage, payload: GroupPayload = parseGroupContent(message.content)): PendingGroupMessage {
  const p = payload;
  if (p.session_id !== session.session_id || String(room) !== session.room) throw new DecryptError('unknown_session', 'session of another room');
  if (String(message.sender) !== session.sender_user || p.sender_device !== session.sender_device) throw new DecryptError('sender_mismatch', 'message sender is not the session owner');
  if (p.index < session.first_index) throw new DecryptError('index_too_early', `index ${p.index} is before ${session.first_index}`);
  if (p.index - session.first_index > MAX_RATCHET_STEPS) throw new DecryptError('too_far', `index ${p.index} too far ahead`);
  const aad = aadOf(session.room, session.sender_user, session.sender_device, fromBase64Url(session.session_id, SESSION_ID_BYTES), p.index);
  const verified = ed25519Verify(p.sig, signedPart(aad, p.iv, p.ct), fromBase64(session.sender_signing, 32));
  return { message, payload: p, aad, verified };
}

/**
 * Second half: signature result, replay check (the same message, same id and content, may be
 * decrypted again; the same index under another message is a replay), then AES-GCM.
 */
export async function finishGroupMessage(session: InboundGroupSession, pending: PendingGroupMessage, cache: RatchetCache, seen: SeenIndices): Promise<GroupDecrypted> {
  const { message, payload: p, aad } = pending;
  if (!(await pending.verified)) throw new DecryptError('bad_signature', 'message signature');
  const mark: [string, string] = [String(message.id), digestOf(message.content)];
  const prior = seen[p.index];
  if (prior && (prior[0] !== mark[0] || prior[1] !== mark[1])) throw new DecryptError('replay', `index ${p.index} already used by message ${prior[0]}`);
  const { messageKey } = chainStep(cache.chainKey(session, p.index));
  const plaintext = aesGcmDecrypt(aesKeyOf(messageKey, LABELS.groupKey), p.iv, p.ct, aad);
  if (!plaintext) throw new DecryptError('bad_ciphertext', 'message does not decrypt');
  return { plaintext, index: p.index, mark, fresh: !prior };
}

/** Verifies and decrypts one room message with the inbound session its payload names (both halves); the caller records a fresh mark in `seen`. */
export async function decryptGroupMessage(
  session: InboundGroupSession,
  room: string | number,
  message: RoomMessage,
  seen: SeenIndices = {},
  cache: RatchetCache = new RatchetCache(1),
): Promise<GroupDecrypted> {
  return finishGroupMessage(session, startGroupMessage(session, room, message), cache, seen);
}

const isIndex = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 0xffffffff;

/** Shape-checks a received session key; E2eeError otherwise. */
export function checkSessionKey(key: unknown): SessionKey {
  const k = key as SessionKey;
  try {
    if (!k || k.type !== 'room_key' || typeof k.room !== 'string' || !k.room || !isIndex(k.index)) throw new Error('fields');
    fromBase64Url(k.session_id, SESSION_ID_BYTES);
    fromBase64(k.chain_key, 32);
    fromBase64(k.sender_signing, 32);
  } catch {
    throw new E2eeError('malformed session key');
  }
  return k;
}

/**
 * The inbound session for a session key received from (sender user, device, signing key), merged
 * with the one we already hold: the lower index wins when both lie on the same chain; a key
 * that contradicts ours, or that its sender could not have made, is refused (E2eeError).
 */
export function importSessionKey(
  key: SessionKey,
  sender: { user: string; device_id: string; signing_key: string },
  existing: InboundGroupSession | undefined,
  now = Date.now(),
): InboundGroupSession {
  checkSessionKey(key);
  if (key.sender_signing !== sender.signing_key) throw new E2eeError('a device can only share its own sessions');
  const fresh: InboundGroupSession = {
    v: 1,
    room: key.room,
    session_id: key.session_id,
    sender_user: sender.user,
    sender_device: sender.device_id,
    sender_signing: key.sender_signing,
    first_index: key.index,
    chain_key: key.chain_key,
    imported_at: now,
  };
  if (!existing) return fresh;
  if (existing.room !== fresh.room || existing.sender_user !== fresh.sender_user || existing.sender_device !== fresh.sender_device || existing.sender_signing !== fresh.sender_signing) {
    throw new E2eeError('session key conflicts with the session we hold');
  }
  const [low, high] = existing.first_index <= fresh.first_index ? [existing, fresh] : [fresh, existing];
  const steps = high.first_index - low.first_index;
  if (steps > MAX_RATCHET_STEPS || !equalBytes(advance(fromBase64(low.chain_key, 32), steps), fromBase64(high.chain_key, 32))) {
    throw new E2eeError('session key conflicts with the session we hold');
  }
  return { ...low, imported_at: existing.imported_at };
}
