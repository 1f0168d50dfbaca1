// A device: an Ed25519 signing key, an X25519 identity key, a signed prekey (X25519, signed by
// the Ed25519 key over a domain-separated message that also names the identity key) and
// one-time prekeys. The private halves live in the store only; what leaves is the upload body.
import { BundleError } from './errors.js';
import { type Bytes, frame, fromBase64, toBase64, toBase64Url } from './encoding.js';
import { type KeyPair, ed25519KeyPair, ed25519Sign, ed25519Verify, isEd25519PublicKey, randomBytes, x25519KeyPair } from './primitives.js';

/** A key pair as stored: base64 of the raw 32-byte halves. */
export interface StoredKeyPair {
  public_key: string;
  secret_key: string;
}

/** A signed prekey as stored (with its private half). */
export interface StoredSignedPrekey extends StoredKeyPair {
  key_id: number;
  signature: string;
  created_at: number;
}

/** A one-time prekey as stored (with its private half); deleted once used. */
export interface StoredOneTimePrekey extends StoredKeyPair {
  key_id: number;
}

/** Our own device, private keys included: never leaves the store. */
export interface DeviceRecord {
  v: 1;
  device_id: string;
  user: string;
  signing: StoredKeyPair;
  identity: StoredKeyPair;
  /** Newest last; the previous one is kept a while so envelopes made with it still open. */
  signed_prekeys: StoredSignedPrekey[];
  next_signed_prekey_id: number;
  next_one_time_prekey_id: number;
  created_at: number;
}

/** Public one-time prekey, as uploaded and as claimed. */
export interface OneTimePrekeyPublic {
  key_id: number;
  public_key: string;
}

/** Public signed prekey, as uploaded and as claimed. */
export interface SignedPrekeyPublic extends OneTimePrekeyPublic {
  signature: string;
}

/** The body of `POST /api/e2ee_keys/devices/`: public keys only. */
export interface DeviceUpload {
  device_id: string;
  identity_key: string;
  signing_key: string;
  signed_prekey: SignedPrekeyPublic;
  one_time_prekeys: OneTimePrekeyPublic[];
}

/** One bundle of `POST /api/e2ee_keys/devices/claim/`. */
export interface ClaimedBundle {
  user: string | number;
  device_id: string;
  identity_key: string;
  signing_key: string;
  signed_prekey: SignedPrekeyPublic;
  one_time_prekey: OneTimePrekeyPublic | null;
}

/** Signed prekeys kept (current + previous). */
export const SIGNED_PREKEYS_KEPT = 2;
/** The server takes at most this many one-time prekeys per upload. */
export const MAX_ONE_TIME_PREKEYS_PER_UPLOAD = 100;

const DEVICE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Whether a string is a device id the server accepts (1–64 of A-Z a-z 0-9 _ -); ours are base64url of 12 bytes. */
export function isDeviceId(id: unknown): id is string {
  return typeof id === 'string' && DEVICE_ID.test(id);
}

/** The bytes an Ed25519 key signs to vouch for a signed prekey (and for its identity key). */
export function signedPrekeyMessage(signingKey: Uint8Array, identityKey: Uint8Array, keyId: number, prekey: Uint8Array): Bytes {
  return frame('chat-e2ee v1 signed prekey', signingKey, identityKey, keyId, prekey);
}

function stored(pair: KeyPair): StoredKeyPair {
  return { public_key: toBase64(pair.publicKey), secret_key: toBase64(pair.secretKey) };
}

/** The key pair of a stored pair. */
export function keyPairOf(s: StoredKeyPair): KeyPair {
  return { publicKey: fromBase64(s.public_key, 32), secretKey: fromBase64(s.secret_key, 32) };
}

async function makeSignedPrekey(device: Pick<DeviceRecord, 'signing' | 'identity'>, keyId: number, now: number): Promise<StoredSignedPrekey> {
  const pair = x25519KeyPair();
  const signing = keyPairOf(device.signing);
  const message = signedPrekeyMessage(signing.publicKey, fromBase64(device.identity.public_key, 32), keyId, pair.publicKey);
  return { key_id: keyId, ...stored(pair), signature: toBase64(await ed25519Sign(message, signing)), created_at: now };
}

/** A new device for `user`: fresh keys and a signed prekey (one-time prekeys come from `makeOneTimePrekeys`). */
export async function createDeviceRecord(user: string | number, now = Date.now()): Promise<DeviceRecord> {
  const base = {
    v: 1 as const,
    device_id: toBase64Url(randomBytes(12)),
    user: String(user),
    signing: stored(ed25519KeyPair()),
    identity: stored(x25519KeyPair()),
    created_at: now,
  };
  return { ...base, signed_prekeys: [await makeSignedPrekey(base, 1, now)], next_signed_prekey_id: 2, next_one_time_prekey_id: 1 };
}

/** A new signed prekey made current; the oldest beyond SIGNED_PREKEYS_KEPT is dropped. Mutates and returns the record. */
export async function rotateSignedPrekey(device: DeviceRecord, now = Date.now()): Promise<DeviceRecord> {
  const spk = await makeSignedPrekey(device, device.next_signed_prekey_id, now);
  device.next_signed_prekey_id += 1;
  device.signed_prekeys = [...device.signed_prekeys, spk].slice(-SIGNED_PREKEYS_KEPT);
  return device;
}

/** `count` new one-time prekeys (private halves to store); advances the record's id counter. */
export function makeOneTimePrekeys(device: DeviceRecord, count: number): StoredOneTimePrekey[] {
  if (!Number.isInteger(count) || count < 0 || count > MAX_ONE_TIME_PREKEYS_PER_UPLOAD) throw new RangeError(`count must be 0–${MAX_ONE_TIME_PREKEYS_PER_UPLOAD}`);
  const out: StoredOneTimePrekey[] = [];
  for (let i = 0; i < count; i++) out.push({ key_id: device.next_one_time_prekey_id++, ...stored(x25519KeyPair()) });
  return out;
}

/** The current signed prekey. */
export function currentSignedPrekey(device: DeviceRecord): StoredSignedPrekey {
  return device.signed_prekeys[device.signed_prekeys.length - 1];
}

/** The upload body: public keys only, whatever the record holds. */
export function deviceUpload(device: DeviceRecord, oneTimePrekeys: StoredOneTimePrekey[] = []): DeviceUpload {
  const spk = currentSignedPrekey(device);
  return {
    device_id: device.device_id,
    identity_key: device.identity.public_key,
    signing_key: device.signing.public_key,
    signed_prekey: { key_id: spk.key_id, public_key: spk.public_key, signature: spk.signature },
    one_time_prekeys: oneTimePrekeys.map((k) => ({ key_id: k.key_id, public_key: k.public_key })),
  };
}

/** A claimed bundle with its keys decoded and its signed prekey checked. */
export interface VerifiedBundle {
  user: string;
  device_id: string;
  identityKey: Bytes;
  signingKey: Bytes;
  signedPrekey: { keyId: number; publicKey: Bytes };
  oneTimePrekey: { keyId: number; publicKey: Bytes } | null;
  /** The base64 forms, for identity bookkeeping. */
  identity_key: string;
  signing_key: string;
}

const isKeyId = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 0x7fffffff;

function decodeBundle(bundle: ClaimedBundle): { decoded: VerifiedBundle; signature: Bytes } {
  if (!bundle || typeof bundle !== 'object') throw new Error('not an object');
  if (!isDeviceId(bundle.device_id)) throw new Error('device_id');
  if (typeof bundle.user !== 'string' && typeof bundle.user !== 'number') throw new Error('user');
  const spk = bundle.signed_prekey;
  if (!spk || !isKeyId(spk.key_id)) throw new Error('signed_prekey');
  const opk = bundle.one_time_prekey;
  if (opk !== null && (!opk || !isKeyId(opk.key_id))) throw new Error('one_time_prekey');
  const decoded: VerifiedBundle = {
    user: String(bundle.user),
    device_id: bundle.device_id,
    identityKey: fromBase64(bundle.identity_key, 32),
    signingKey: fromBase64(bundle.signing_key, 32),
    signedPrekey: { keyId: spk.key_id, publicKey: fromBase64(spk.public_key, 32) },
    oneTimePrekey: opk ? { keyId: opk.key_id, publicKey: fromBase64(opk.public_key, 32) } : null,
    identity_key: bundle.identity_key,
    signing_key: bundle.signing_key,
  };
  return { decoded, signature: fromBase64(spk.signature, 64) };
}

/** Decodes a claimed bundle and verifies its signed-prekey signature; BundleError otherwise. */
export async function verifyBundle(bundle: ClaimedBundle): Promise<VerifiedBundle> {
  let parsed: { decoded: VerifiedBundle; signature: Bytes };
  try {
    parsed = decodeBundle(bundle);
  } catch (e) {
    throw new BundleError(`malformed bundle: ${(e as Error).message}`);
  }
  const { decoded, signature } = parsed;
  if (!isEd25519PublicKey(decoded.signingKey)) throw new BundleError('malformed bundle: signing_key is not an Ed25519 point');
  const message = signedPrekeyMessage(decoded.signingKey, decoded.identityKey, decoded.signedPrekey.keyId, decoded.signedPrekey.publicKey);
  if (!(await ed25519Verify(signature, message, decoded.signingKey))) throw new BundleError(`bundle of device ${decoded.device_id}: bad signed-prekey signature`);
  return decoded;
}
