// Safety numbers, computed as Signal's numeric fingerprint (version 0): per side, SHA-512 over
// 0x0000 ‖ key ‖ user id, then 5,200 times SHA-512(hash ‖ key); the first 30 bytes give six
// 5-digit chunks (big-endian 40-bit value mod 100000). The two 30-digit halves are sorted and
// joined, so both people see the same 60 digits (12 groups of 5). The key is the device's raw
// 32-byte Ed25519 signing key (Signal prefixes a 0x05 type byte; we do not), which also vouches
// for the device's X25519 identity key through the signed prekey signature.
import { concat, fromBase64, utf8 } from './encoding.js';
import { sha512 } from './primitives.js';

/** SHA-512 iterations per side (Signal's count). */
export const SAFETY_ITERATIONS = 5200;

/** One side of a conversation: a user id and a device signing key (base64 or bytes). */
export interface SafetySide {
  user: string | number;
  signing_key: string | Uint8Array;
}

function keyBytes(k: string | Uint8Array): Uint8Array {
  return typeof k === 'string' ? fromBase64(k, 32) : k;
}

/** The 30 digits of one side. */
export function fingerprintDigits(side: SafetySide, iterations = SAFETY_ITERATIONS): string {
  const key = keyBytes(side.signing_key);
  let hash: Uint8Array = concat(new Uint8Array([0, 0]), key, utf8(String(side.user)));
  for (let i = 0; i < iterations; i++) hash = sha512(concat(hash, key));
  let out = '';
  for (let c = 0; c < 6; c++) {
    let v = 0;
    for (let j = 0; j < 5; j++) v = v * 256 + hash[c * 5 + j];
    out += String(v % 100000).padStart(5, '0');
  }
  return out;
}

/** The safety number of two sides: 12 groups of 5 digits, the same whichever side computes it. */
export function safetyNumber(a: SafetySide, b: SafetySide, iterations = SAFETY_ITERATIONS): string {
  const [x, y] = [fingerprintDigits(a, iterations), fingerprintDigits(b, iterations)].sort();
  return (x + y).match(/\d{5}/g)!.join(' ');
}
