// Bytes ↔ text for the E2EE library: strict base64 (standard and URL-safe), UTF-8, and the
// canonical framing every signature and AAD input goes through (length-prefixed parts under a
// domain label, so no two different inputs can produce the same bytes).

/** Raw bytes; always backed by an ArrayBuffer (what WebCrypto accepts). */
export type Bytes = Uint8Array<ArrayBuffer>;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes of a string. */
export function utf8(text: string): Bytes {
  return encoder.encode(text) as Bytes;
}

/** A string from UTF-8 bytes; throws on invalid UTF-8. */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

function binary(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return s;
}

/** Standard base64 with padding. */
export function toBase64(bytes: Uint8Array): string {
  return btoa(binary(bytes));
}

/** URL-safe base64 without padding. */
export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const STD = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const URL_SAFE = /^[A-Za-z0-9_-]*$/;

/** Standard padded base64 → bytes; throws on anything else (no whitespace, no URL alphabet). */
export function fromBase64(text: string, length?: number): Bytes {
  if (typeof text !== 'string' || !STD.test(text)) throw new TypeError('not standard base64');
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  if (length !== undefined && out.length !== length) throw new TypeError(`expected ${length} bytes, got ${out.length}`);
  return out;
}

/** Unpadded URL-safe base64 → bytes; throws on anything else. */
export function fromBase64Url(text: string, length?: number): Bytes {
  if (typeof text !== 'string' || !URL_SAFE.test(text) || text.length % 4 === 1) throw new TypeError('not base64url');
  const std = text.replace(/-/g, '+').replace(/_/g, '/');
  return fromBase64(std + '='.repeat((4 - (std.length % 4)) % 4), length);
}

/** Lowercase hex (tests and vectors). */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Hex → bytes (tests and vectors). */
export function fromHex(hex: string): Bytes {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new TypeError('not hex');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** The parts one after the other. */
export function concat(...parts: Uint8Array[]): Bytes {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** 4-byte big-endian unsigned integer. */
export function u32(n: number): Bytes {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError('u32 out of range');
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/**
 * Canonical framing: u32 length + bytes for the UTF-8 label and then each part. Strings are
 * UTF-8 encoded, numbers are u32. Used for every signature and AAD input.
 */
export function frame(label: string, ...parts: Array<Uint8Array | string | number>): Bytes {
  const all = [utf8(label), ...parts.map((p) => (typeof p === 'string' ? utf8(p) : typeof p === 'number' ? u32(p) : p))];
  const out: Uint8Array[] = [];
  for (const p of all) out.push(u32(p.length), p);
  return concat(...out);
}

/** Equality in time independent of where the first difference is. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}
