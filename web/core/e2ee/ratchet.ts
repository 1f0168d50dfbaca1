// The symmetric hash ratchet shared by pairwise channels and group sessions: Signal's KDF_CK
// (message key = HMAC-SHA256(CK, 0x01), next chain key = HMAC-SHA256(CK, 0x02)), and the AES key
// of a message from its message key through HKDF-SHA256 under a per-use label.
import { type Bytes, utf8 } from './encoding.js';
import { hkdfSha256, hmacSha256 } from './primitives.js';

const ONE = new Uint8Array([0x01]);
const TWO = new Uint8Array([0x02]);
const ZERO_SALT = new Uint8Array(32);

/** Labels (HKDF info) of the library's derivations: changing one changes every vector. */
export const LABELS = {
  x3dh: 'chat-e2ee v1 X3DH',
  pairwiseKey: 'chat-e2ee v1 pairwise message key',
  groupKey: 'chat-e2ee v1 group message key',
} as const;

/** One step of the chain: the message key of this index and the chain key of the next. */
export function chainStep(chainKey: Uint8Array): { messageKey: Bytes; next: Bytes } {
  return { messageKey: hmacSha256(chainKey, ONE), next: hmacSha256(chainKey, TWO) };
}

/** The chain key `steps` indices ahead. */
export function advance(chainKey: Uint8Array, steps: number): Bytes {
  let ck = Uint8Array.from(chainKey);
  for (let i = 0; i < steps; i++) ck = hmacSha256(ck, TWO);
  return ck;
}

/** The 32-byte AES-256-GCM key of a message key. */
export function aesKeyOf(messageKey: Uint8Array, label: string): Bytes {
  return hkdfSha256(messageKey, ZERO_SALT, utf8(label), 32);
}
