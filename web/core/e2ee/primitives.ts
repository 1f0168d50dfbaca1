// The only cryptographic primitives the library uses, each a thin wrapper over @noble/* or
// WebCrypto (no home-made primitive). The known-answer tests go through these exact functions.
//
// Ed25519 signing and verification use WebCrypto's Ed25519 where the browser has it (about ten
// times faster than JavaScript, which matters for the per-message budgets) after checking it
// against RFC 8032 test 1; otherwise, and on pages without crypto.subtle (plain HTTP), noble's.
// Both are deterministic RFC 8032 Ed25519, so they produce the same signatures.
import { gcm } from '@noble/ciphers/aes.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256, sha512 as nobleSha512 } from '@noble/hashes/sha2.js';
import { type Bytes, equalBytes, fromHex, toBase64, toBase64Url } from './encoding.js';

/** Cryptographically secure random bytes (getRandomValues, which also exists over plain HTTP). */
export function randomBytes(n: number): Bytes {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += 65536) globalThis.crypto.getRandomValues(out.subarray(at, at + 65536));
  return out;
}

/** SHA-256. */
export function sha256(data: Uint8Array): Bytes {
  return nobleSha256(data);
}

/** SHA-512. */
export function sha512(data: Uint8Array): Bytes {
  return nobleSha512(data);
}

/** HMAC-SHA256(key, data). */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Bytes {
  return hmac(nobleSha256, key, data);
}

/** HKDF-SHA256 (RFC 5869) extract-and-expand to `length` bytes. */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Bytes {
  return hkdf(nobleSha256, ikm, salt, info, length);
}

/** AES-256-GCM encryption with a 12-byte IV: ciphertext followed by the 16-byte tag. */
export function aesGcmEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Bytes {
  if (key.length !== 32) throw new RangeError('AES-256 key must be 32 bytes');
  return gcm(key, iv, aad).encrypt(plaintext);
}

/** AES-256-GCM decryption; null when authentication fails. */
export function aesGcmDecrypt(key: Uint8Array, iv: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Bytes | null {
  if (key.length !== 32) throw new RangeError('AES-256 key must be 32 bytes');
  try {
    return gcm(key, iv, aad).decrypt(sealed);
  } catch {
    return null;
  }
}

/** A key pair: 32-byte secret, 32-byte public. */
export interface KeyPair {
  secretKey: Bytes;
  publicKey: Bytes;
}

/** X25519 key pair, random or from a 32-byte seed (tests). */
export function x25519KeyPair(seed?: Uint8Array): KeyPair {
  const secretKey = seed ? Uint8Array.from(seed) : randomBytes(32);
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

/** X25519 public key of a secret (RFC 7748). */
export function x25519PublicKey(secretKey: Uint8Array): Bytes {
  return x25519.getPublicKey(secretKey);
}

/** X25519 shared secret; throws on a low-order public key (all-zero output). */
export function x25519Dh(secretKey: Uint8Array, publicKey: Uint8Array): Bytes {
  return x25519.getSharedSecret(secretKey, publicKey);
}

/** Ed25519 key pair, random or from a 32-byte seed (RFC 8032 secret key). */
export function ed25519KeyPair(seed?: Uint8Array): KeyPair {
  const secretKey = seed ? Uint8Array.from(seed) : randomBytes(32);
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

/** Whether 32 bytes decode to a valid Ed25519 point. */
export function isEd25519PublicKey(publicKey: Uint8Array): boolean {
  return publicKey.length === 32 && ed25519.utils.isValidPublicKey(publicKey, false);
}

/** Which Ed25519 implementation sign/verify use. */
export type Ed25519Backend = 'auto' | 'noble';
let backend: Ed25519Backend = 'auto';
let webcryptoOk: Promise<boolean> | null = null;

/** Force noble for Ed25519 (tests compare both paths), or go back to 'auto'. */
export function setEd25519Backend(b: Ed25519Backend): void {
  backend = b;
}

// RFC 8032 §7.1 test 1: the self-check before trusting the platform's Ed25519.
const T1_PUB = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const T1_SIG =
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';

async function webcryptoUsable(): Promise<boolean> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return false;
  try {
    const key = await subtle.importKey('raw', fromHex(T1_PUB), { name: 'Ed25519' }, false, ['verify']);
    const good = await subtle.verify('Ed25519', key, fromHex(T1_SIG), new Uint8Array(0));
    const bad = fromHex(T1_SIG);
    bad[0] ^= 1;
    const forged = await subtle.verify('Ed25519', key, bad, new Uint8Array(0));
    return good && !forged;
  } catch {
    return false;
  }
}

async function useWebcrypto(): Promise<boolean> {
  if (backend === 'noble') return false;
  webcryptoOk ??= webcryptoUsable();
  return webcryptoOk;
}

// Imported CryptoKeys, by public key (bounded; a key is cheap to import again).
const verifyKeys = new Map<string, Promise<CryptoKey>>();
const signKeys = new Map<string, Promise<CryptoKey>>();
function cached(map: Map<string, Promise<CryptoKey>>, id: string, make: () => Promise<CryptoKey>): Promise<CryptoKey> {
  let p = map.get(id);
  if (!p) {
    if (map.size >= 256) map.delete(map.keys().next().value!);
    p = make();
    map.set(id, p);
    p.catch(() => map.delete(id));
  }
  return p;
}

/** Ed25519 signature (64 bytes) of `message` by the key pair. */
export async function ed25519Sign(message: Uint8Array, pair: KeyPair): Promise<Bytes> {
  if (await useWebcrypto()) {
    try {
      const id = toBase64(pair.publicKey) + toBase64(sha256(pair.secretKey)).slice(0, 8);
      const key = await cached(signKeys, id, () =>
        globalThis.crypto.subtle.importKey(
          'jwk',
          { kty: 'OKP', crv: 'Ed25519', d: toBase64Url(pair.secretKey), x: toBase64Url(pair.publicKey) },
          { name: 'Ed25519' },
          false,
          ['sign'],
        ),
      );
      return new Uint8Array(await globalThis.crypto.subtle.sign('Ed25519', key, message as Bytes));
    } catch {
      // fall through to noble
    }
  }
  return ed25519.sign(message, pair.secretKey);
}

/** Whether `signature` is a valid Ed25519 signature of `message` by `publicKey` (strict RFC 8032). */
export async function ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): Promise<boolean> {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  if (await useWebcrypto()) {
    try {
      const key = await cached(verifyKeys, toBase64(publicKey), () =>
        globalThis.crypto.subtle.importKey('raw', publicKey as Bytes, { name: 'Ed25519' }, false, ['verify']),
      );
      return await globalThis.crypto.subtle.verify('Ed25519', key, signature as Bytes, message as Bytes);
    } catch {
      // fall through to noble
    }
  }
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** Constant-time equality, re-exported for callers that compare keys or MACs. */
export { equalBytes };
