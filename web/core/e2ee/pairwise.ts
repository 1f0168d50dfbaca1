// One-way pairwise channels, device to device: X3DH over the prekey directory, then a symmetric
// hash ratchet (one message key per envelope, forward secrecy per envelope). There is no DH
// ratchet: see docs/e2ee.md for what that costs. The functions here are pure over state records;
// the façade (index.ts) loads and saves them.
import { type DecryptCode, DecryptError, type DeviceIdentity, IdentityChangedError } from './errors.js';
import { type Bytes, concat, frame, fromBase64, toBase64, utf8 } from './encoding.js';
import { type DeviceRecord, type StoredOneTimePrekey, type VerifiedBundle, isDeviceId, keyPairOf } from './device.js';
import { type KeyPair, aesGcmDecrypt, aesGcmEncrypt, ed25519Sign, ed25519Verify, hkdfSha256, randomBytes, x25519Dh, x25519KeyPair } from './primitives.js';
import { LABELS, aesKeyOf, chainStep } from './ratchet.js';

/** Skipped message keys an inbound channel keeps (and the furthest it jumps ahead at once). */
export const MAX_SKIPPED_KEYS = 1000;
/** Largest envelope the server relays (16 KiB). */
export const MAX_ENVELOPE_BYTES = 16 * 1024;

/** Our sending side of a channel to one device. */
export interface OutboundChannel {
  v: 1;
  user: string;
  device_id: string;
  identity_key: string;
  signing_key: string;
  eph: string;
  spk_id: number;
  opk_id: number | null;
  /** Chain key of index `n` (base64). */
  chain_key: string;
  /** The next index to send. */
  n: number;
  created_at: number;
}

/** Our receiving side of a channel from one device (one per sender ephemeral key). */
export interface InboundChannel {
  v: 1;
  sender_user: string;
  sender_device: string;
  sender_identity: string;
  sender_signing: string;
  eph: string;
  spk_id: number;
  opk_id: number | null;
  /** Chain key of index `n` (base64): the next index not derived yet. */
  chain_key: string;
  n: number;
  /** Message keys of indices below `n` not received yet (index → base64 key). */
  skipped: Record<string, string>;
  created_at: number;
}

/** The wire envelope (a JSON string): header fields, `iv`, `ct` and the sender's signature. */
export interface Envelope {
  v: 1;
  sender_user: string;
  sender_device: string;
  sender_identity: string;
  sender_signing: string;
  recipient_device: string;
  eph: string;
  spk_id: number;
  opk_id: number | null;
  n: number;
  iv: string;
  ct: string;
  sig: string;
}

// X3DH (Signal's specification, §2.2 and §3.3): F = 32 bytes 0xFF, salt = 32 zero bytes.
const F = new Uint8Array(32).fill(0xff);
const ZERO_SALT = new Uint8Array(32);

function x3dhSecret(dhs: Uint8Array[]): Bytes {
  return hkdfSha256(concat(F, ...dhs), ZERO_SALT, utf8(LABELS.x3dh), 32);
}

/** X3DH as the initiator: SK from our identity key, a fresh ephemeral key and the bundle. */
export function x3dhInitiate(identity: KeyPair, ephemeral: KeyPair, bundle: Pick<VerifiedBundle, 'identityKey' | 'signedPrekey' | 'oneTimePrekey'>): Bytes {
  const dhs = [
    x25519Dh(identity.secretKey, bundle.signedPrekey.publicKey),
    x25519Dh(ephemeral.secretKey, bundle.identityKey),
    x25519Dh(ephemeral.secretKey, bundle.signedPrekey.publicKey),
  ];
  if (bundle.oneTimePrekey) dhs.push(x25519Dh(ephemeral.secretKey, bundle.oneTimePrekey.publicKey));
  return x3dhSecret(dhs);
}

/** X3DH as the responder: the same SK from our identity, signed and one-time prekey secrets. */
export function x3dhRespond(identity: KeyPair, signedPrekey: Uint8Array, oneTimePrekey: Uint8Array | null, theirIdentity: Uint8Array, ephemeral: Uint8Array): Bytes {
  const dhs = [x25519Dh(signedPrekey, theirIdentity), x25519Dh(identity.secretKey, ephemeral), x25519Dh(signedPrekey, ephemeral)];
  if (oneTimePrekey) dhs.push(x25519Dh(oneTimePrekey, ephemeral));
  return x3dhSecret(dhs);
}

/** A new outbound channel to a verified bundle (the ephemeral key is fresh unless given, for vectors). */
export function openOutboundChannel(device: DeviceRecord, bundle: VerifiedBundle, now = Date.now(), ephemeral: KeyPair = x25519KeyPair()): OutboundChannel {
  const sk = x3dhInitiate(keyPairOf(device.identity), ephemeral, bundle);
  return {
    v: 1,
    user: bundle.user,
    device_id: bundle.device_id,
    identity_key: bundle.identity_key,
    signing_key: bundle.signing_key,
    eph: toBase64(ephemeral.publicKey),
    spk_id: bundle.signedPrekey.keyId,
    opk_id: bundle.oneTimePrekey ? bundle.oneTimePrekey.keyId : null,
    chain_key: toBase64(sk),
    n: 0,
    created_at: now,
  };
}

type Header = Omit<Envelope, 'ct' | 'sig'>;

/** Canonical bytes of an envelope header (signature and AAD input). */
export function headerBytes(h: Header): Bytes {
  return frame(
    'chat-e2ee v1 envelope header',
    h.sender_user,
    h.sender_device,
    fromBase64(h.sender_identity, 32),
    fromBase64(h.sender_signing, 32),
    h.recipient_device,
    fromBase64(h.eph, 32),
    h.spk_id,
    h.opk_id === null ? new Uint8Array(0) : h.opk_id,
    h.n,
    fromBase64(h.iv, 12),
  );
}

function aadOf(senderIdentity: Uint8Array, recipientIdentity: Uint8Array, header: Uint8Array): Bytes {
  return frame('chat-e2ee v1 envelope aad', senderIdentity, recipientIdentity, header);
}

function signedPart(recipientIdentity: Uint8Array, header: Uint8Array, ct: Uint8Array): Bytes {
  return frame('chat-e2ee v1 envelope signature', recipientIdentity, header, ct);
}

/** Encrypts one envelope on a channel; returns it and the advanced channel (the input is not changed). */
export async function sealEnvelope(
  device: DeviceRecord,
  channel: OutboundChannel,
  plaintext: Uint8Array,
  iv: Uint8Array = randomBytes(12),
): Promise<{ envelope: string; channel: OutboundChannel }> {
  const { messageKey, next } = chainStep(fromBase64(channel.chain_key, 32));
  const header: Header = {
    v: 1,
    sender_user: device.user,
    sender_device: device.device_id,
    sender_identity: device.identity.public_key,
    sender_signing: device.signing.public_key,
    recipient_device: channel.device_id,
    eph: channel.eph,
    spk_id: channel.spk_id,
    opk_id: channel.opk_id,
    n: channel.n,
    iv: toBase64(iv),
  };
  const hb = headerBytes(header);
  const recipientIdentity = fromBase64(channel.identity_key, 32);
  const ct = aesGcmEncrypt(aesKeyOf(messageKey, LABELS.pairwiseKey), iv, plaintext, aadOf(fromBase64(device.identity.public_key, 32), recipientIdentity, hb));
  const sig = await ed25519Sign(signedPart(recipientIdentity, hb, ct), keyPairOf(device.signing));
  const envelope = JSON.stringify({ ...header, ct: toBase64(ct), sig: toBase64(sig) } satisfies Envelope);
  if (utf8(envelope).length > MAX_ENVELOPE_BYTES) throw new RangeError(`envelope over ${MAX_ENVELOPE_BYTES} bytes`);
  return { envelope, channel: { ...channel, chain_key: toBase64(next), n: channel.n + 1 } };
}

const fail = (code: DecryptCode, message?: string): never => {
  throw new DecryptError(code, message);
};
const isIndex = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 0x7fffffff;
const ENVELOPE_KEYS = ['v', 'sender_user', 'sender_device', 'sender_identity', 'sender_signing', 'recipient_device', 'eph', 'spk_id', 'opk_id', 'n', 'iv', 'ct', 'sig'];

/** Parses and shape-checks an envelope string; DecryptError('malformed' | 'unsupported_version'). */
export function parseEnvelope(text: string): Envelope {
  if (typeof text !== 'string' || text.length > MAX_ENVELOPE_BYTES) fail('malformed', 'envelope too large or not a string');
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(text);
  } catch {
    return fail('malformed', 'envelope is not JSON');
  }
  if (!e || typeof e !== 'object' || Array.isArray(e)) fail('malformed', 'envelope is not an object');
  if (e.v !== 1) fail('unsupported_version', `envelope version ${String(e.v)}`);
  const keys = Object.keys(e);
  if (keys.length !== ENVELOPE_KEYS.length || !ENVELOPE_KEYS.every((k) => k in e)) fail('malformed', 'envelope fields');
  const ok =
    typeof e.sender_user === 'string' &&
    e.sender_user.length > 0 &&
    e.sender_user.length <= 64 &&
    isDeviceId(e.sender_device) &&
    isDeviceId(e.recipient_device) &&
    isIndex(e.spk_id) &&
    (e.opk_id === null || isIndex(e.opk_id)) &&
    isIndex(e.n) &&
    ['sender_identity', 'sender_signing', 'eph', 'iv', 'ct', 'sig'].every((k) => typeof e[k] === 'string');
  if (!ok) fail('malformed', 'envelope field types');
  try {
    fromBase64(e.sender_identity as string, 32);
    fromBase64(e.sender_signing as string, 32);
    fromBase64(e.eph as string, 32);
    fromBase64(e.iv as string, 12);
    fromBase64(e.sig as string, 64);
    if (fromBase64(e.ct as string).length < 16) throw new Error('short');
  } catch {
    fail('malformed', 'envelope keys or sizes');
  }
  return e as unknown as Envelope;
}

/** What the receiver needs besides the envelope. */
export interface ReceiveContext {
  device: DeviceRecord;
  /** The keys we knew for (sender_user, sender_device), if any. */
  known: DeviceIdentity | undefined;
  /** The stored inbound channel for (sender_device, eph), if any. */
  channel: InboundChannel | undefined;
  /** Our one-time prekey of that id, if we still hold it. */
  oneTimePrekey: StoredOneTimePrekey | undefined;
  now?: number;
}

/** What opening an envelope changes: the caller stores `channel`, deletes `consumedOneTimePrekey`, records a new identity. */
export interface Opened {
  plaintext: Bytes;
  envelope: Envelope;
  channel: InboundChannel;
  consumedOneTimePrekey: number | null;
  newIdentity: boolean;
}

/**
 * Verifies and decrypts an envelope. Nothing is changed on failure (DecryptError, or
 * IdentityChangedError when the sender device is known with other keys).
 */
export async function openEnvelope(text: string, ctx: ReceiveContext): Promise<Opened> {
  const env = parseEnvelope(text);
  const { device } = ctx;
  if (env.recipient_device !== device.device_id) fail('wrong_recipient', 'envelope for another device');
  const ourIdentity = keyPairOf(device.identity);
  const hb = headerBytes(env);
  const ct = fromBase64(env.ct);
  if (!(await ed25519Verify(fromBase64(env.sig, 64), signedPart(ourIdentity.publicKey, hb, ct), fromBase64(env.sender_signing, 32)))) {
    fail('bad_signature', 'envelope signature');
  }
  const seen = { identity_key: env.sender_identity, signing_key: env.sender_signing };
  if (ctx.known && (ctx.known.identity_key !== seen.identity_key || ctx.known.signing_key !== seen.signing_key)) {
    throw new IdentityChangedError(env.sender_user, env.sender_device, ctx.known, seen);
  }

  let channel = ctx.channel;
  let consumed: number | null = null;
  if (channel) {
    const same =
      channel.sender_user === env.sender_user &&
      channel.sender_identity === env.sender_identity &&
      channel.sender_signing === env.sender_signing &&
      channel.spk_id === env.spk_id &&
      channel.opk_id === env.opk_id;
    if (!same) fail('malformed', 'envelope does not match its channel');
    channel = { ...channel, skipped: { ...channel.skipped } };
  } else {
    const spk = device.signed_prekeys.find((k) => k.key_id === env.spk_id);
    if (!spk) fail('unknown_prekey', `signed prekey ${env.spk_id} unknown`);
    let opkSecret: Bytes | null = null;
    if (env.opk_id !== null) {
      if (!ctx.oneTimePrekey || ctx.oneTimePrekey.key_id !== env.opk_id) fail('unknown_prekey', `one-time prekey ${env.opk_id} unknown or already used`);
      opkSecret = fromBase64(ctx.oneTimePrekey!.secret_key, 32);
      consumed = env.opk_id;
    }
    let sk: Bytes;
    try {
      sk = x3dhRespond(ourIdentity, fromBase64(spk!.secret_key, 32), opkSecret, fromBase64(env.sender_identity, 32), fromBase64(env.eph, 32));
    } catch {
      return fail('malformed', 'low-order key in envelope');
    }
    channel = {
      v: 1,
      sender_user: env.sender_user,
      sender_device: env.sender_device,
      sender_identity: env.sender_identity,
      sender_signing: env.sender_signing,
      eph: env.eph,
      spk_id: env.spk_id,
      opk_id: env.opk_id,
      chain_key: toBase64(sk),
      n: 0,
      skipped: {},
      created_at: ctx.now ?? Date.now(),
    };
  }

  let messageKey: Bytes;
  if (env.n < channel.n) {
    const k = channel.skipped[env.n];
    if (!k) return fail('replay', `envelope ${env.n} already received`);
    messageKey = fromBase64(k, 32);
    delete channel.skipped[env.n];
  } else {
    if (env.n - channel.n > MAX_SKIPPED_KEYS) fail('too_far', `envelope ${env.n} is more than ${MAX_SKIPPED_KEYS} ahead`);
    let ck = fromBase64(channel.chain_key, 32);
    for (let i = channel.n; i < env.n; i++) {
      const step = chainStep(ck);
      channel.skipped[i] = toBase64(step.messageKey);
      ck = step.next;
    }
    const step = chainStep(ck);
    messageKey = step.messageKey;
    channel.chain_key = toBase64(step.next);
    channel.n = env.n + 1;
    const indices = Object.keys(channel.skipped).map(Number).sort((a, b) => a - b);
    for (const i of indices.slice(0, Math.max(0, indices.length - MAX_SKIPPED_KEYS))) delete channel.skipped[i];
  }
  const aad = aadOf(fromBase64(env.sender_identity, 32), ourIdentity.publicKey, hb);
  const plaintext = aesGcmDecrypt(aesKeyOf(messageKey, LABELS.pairwiseKey), fromBase64(env.iv, 12), ct, aad);
  if (!plaintext) return fail('bad_ciphertext', 'envelope does not decrypt');
  return { plaintext, envelope: env, channel, consumedOneTimePrekey: consumed, newIdentity: !ctx.known };
}
