// Telling public keys from private ones. The server keeps public keys only: anything that
// parses as private key material is refused, wherever it is sent.
import crypto from 'node:crypto';

export type KeyFormat = 'pem' | 'jwk' | 'spki' | 'raw';

/**
 * Raw public key sizes, in bytes: 32 X25519/Ed25519; 33 Curve25519 with Signal's 0x05 type
 * byte, or compressed P-256; 56/57 X448/Ed448; 65, 97, 133 uncompressed P-256/384/521;
 * 800, 1184, 1568 ML-KEM-512/768/1024 encapsulation keys.
 */
const RAW_PUBLIC_SIZES = new Set([32, 33, 56, 57, 65, 97, 133, 800, 1184, 1568]);
/** Prekeys (X3DH) are compact curve points: Curve25519/X448, optionally with a type byte, or P-256. */
const PREKEY_SIZES = new Set([32, 33, 56, 57, 65]);
const JWK_PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
const HEX = /^(?:[0-9a-fA-F]{2})+$/;

/** Standard or URL-safe base64 (padding optional) → bytes, or null. */
export function decodeBase64(value: string): Buffer | null {
  const s = value.replace(/\s+/g, '');
  if (!s || !BASE64.test(s) || s.length % 4 === 1) return null;
  return Buffer.from(s, 'base64');
}

function isDerPrivateKey(der: Buffer): boolean {
  for (const type of ['pkcs8', 'sec1', 'pkcs1'] as const) {
    try {
      crypto.createPrivateKey({ key: der, format: 'der', type });
      return true;
    } catch {
      // not this encoding
    }
  }
  return false;
}

function parseJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/** Why `value` is private key material, or null when it does not parse as any. */
export function privateKeyKind(value: string): string | null {
  const text = value.trim();
  if (/PRIVATE KEY/i.test(text)) return 'a PEM/OpenSSH/PGP private key block';
  if (/^PuTTY-User-Key-File/i.test(text)) return 'a PuTTY private key';
  if (text.startsWith('{')) {
    const jwk = parseJson(text);
    if (jwk && typeof jwk === 'object' && JWK_PRIVATE_MEMBERS.some((m) => m in jwk)) return 'a JWK with private members';
  }
  // Hex digits are base64 characters too: try both readings.
  const readings = [decodeBase64(text), HEX.test(text) ? Buffer.from(text, 'hex') : null];
  if (readings.some((der) => der && der.length >= 16 && isDerPrivateKey(der))) return 'a DER-encoded private key (PKCS#8, SEC1 or PKCS#1)';
  return null;
}

/** The format of a sane public key, or an error message. */
export function publicKeyFormat(value: string): { format: KeyFormat } | { error: string } {
  const text = value.trim();
  if (text.startsWith('-----BEGIN')) {
    if (!/^-----BEGIN (RSA )?PUBLIC KEY-----/.test(text)) return { error: 'Only PEM "PUBLIC KEY" (SPKI) or "RSA PUBLIC KEY" blocks are accepted.' };
    try {
      crypto.createPublicKey({ key: text, format: 'pem' });
      return { format: 'pem' };
    } catch {
      return { error: 'The PEM block does not hold a valid public key.' };
    }
  }
  if (text.startsWith('{')) {
    const jwk = parseJson(text);
    if (!jwk || typeof jwk !== 'object' || typeof (jwk as { kty?: unknown }).kty !== 'string') return { error: 'A JSON public key must be a JWK object with "kty".' };
    try {
      crypto.createPublicKey({ key: jwk as crypto.JsonWebKey, format: 'jwk' });
      return { format: 'jwk' };
    } catch {
      return { error: 'The JWK is not a valid public key.' };
    }
  }
  const bytes = decodeBase64(text);
  if (!bytes) return { error: 'Send a PEM public key, a public JWK, or base64 (standard or URL-safe) key bytes.' };
  try {
    crypto.createPublicKey({ key: bytes, format: 'der', type: 'spki' });
    return { format: 'spki' };
  } catch {
    // not DER SPKI: a raw key?
  }
  if (RAW_PUBLIC_SIZES.has(bytes.length)) return { format: 'raw' };
  return { error: `Not a recognised public key: ${bytes.length} bytes is neither DER SPKI nor a raw key size (${[...RAW_PUBLIC_SIZES].join(', ')}).` };
}

/** A prekey or identity key: base64 of a compact curve point. */
export function isPrekeyPublicKey(value: string): boolean {
  const bytes = decodeBase64(value);
  return !!bytes && PREKEY_SIZES.has(bytes.length);
}

/** A signature: base64 of 64–132 bytes (Ed25519/XEdDSA, Ed448, ECDSA raw or DER). */
export function isSignature(value: string): boolean {
  const bytes = decodeBase64(value);
  return !!bytes && bytes.length >= 64 && bytes.length <= 132;
}

export const LABEL_MAX = 100;

/**
 * The seed's `private_key` is kept only as an opaque reference label ("where my private key
 * is"). Besides parseable private keys, refuses what could be a raw secret key: base64 of 32+
 * bytes with mixed case and digits, or hex of 32+ bytes.
 */
export function labelProblem(value: string): string | null {
  const kind = privateKeyKind(value);
  if (kind) return `This is ${kind}: the server never stores private keys. Send only an opaque label naming where your private key is kept.`;
  if (value.length > LABEL_MAX) return `A key label has at most ${LABEL_MAX} characters.`;
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'A key label cannot contain control characters.';
  const compact = value.trim();
  const b64 = decodeBase64(compact);
  const randomLooking = !!b64 && b64.length >= 32 && /[A-Z]/.test(compact) && /[a-z]/.test(compact) && /\d/.test(compact);
  if (randomLooking || (HEX.test(compact) && compact.length >= 64)) {
    return 'This looks like raw key material: the server never stores private keys. Send only a short label naming where your private key is kept.';
  }
  return null;
}
