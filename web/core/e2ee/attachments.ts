// Attachments: encrypted in the browser with a fresh random AES-256-GCM key per file; the key,
// IV and SHA-256 of the ciphertext travel inside the (encrypted) message, the ciphertext is
// uploaded as an `encrypted` attachment. WebCrypto does the bulk work where it exists (native
// speed on large files); pages without crypto.subtle (plain HTTP) fall back to noble.
import { DecryptError } from './errors.js';
import { type Bytes, equalBytes, fromBase64, toBase64 } from './encoding.js';
import { aesGcmDecrypt, aesGcmEncrypt, randomBytes, sha256 } from './primitives.js';

/** What the message carries about an encrypted file. */
export interface AttachmentInfo {
  v: 1;
  /** AES-256-GCM key (base64, 32 bytes). */
  key: string;
  /** GCM IV (base64, 12 bytes). */
  iv: string;
  /** SHA-256 of the ciphertext (base64): checked before decrypting. */
  sha256: string;
  name: string;
  mime: string;
  /** Plaintext size in bytes. */
  size: number;
}

const subtle = (): SubtleCrypto | undefined => globalThis.crypto?.subtle;

function bytesOf(data: Uint8Array | ArrayBuffer): Bytes {
  return data instanceof ArrayBuffer ? new Uint8Array(data) : (new Uint8Array(data.buffer, data.byteOffset, data.byteLength) as Bytes);
}

async function digest(data: Bytes): Promise<Bytes> {
  const s = subtle();
  return s ? new Uint8Array(await s.digest('SHA-256', data)) : sha256(data);
}

/** Encrypts a file: the ciphertext to upload and the info to put in the encrypted message. */
export async function encryptAttachment(
  data: Uint8Array | ArrayBuffer,
  meta: { name: string; mime: string },
): Promise<{ ciphertext: Bytes; info: AttachmentInfo }> {
  const plain = bytesOf(data);
  const key = randomBytes(32);
  const iv = randomBytes(12);
  const s = subtle();
  let ciphertext: Bytes;
  if (s) {
    const k = await s.importKey('raw', key, 'AES-GCM', false, ['encrypt']);
    ciphertext = new Uint8Array(await s.encrypt({ name: 'AES-GCM', iv }, k, plain));
  } else {
    ciphertext = aesGcmEncrypt(key, iv, plain);
  }
  const info: AttachmentInfo = { v: 1, key: toBase64(key), iv: toBase64(iv), sha256: toBase64(await digest(ciphertext)), name: meta.name, mime: meta.mime, size: plain.length };
  return { ciphertext, info };
}

/** Decrypts a downloaded file: SHA-256 first, then GCM; DecryptError('malformed' | 'bad_hash' | 'bad_ciphertext'). */
export async function decryptAttachment(data: Uint8Array | ArrayBuffer, info: AttachmentInfo): Promise<Bytes> {
  let key: Bytes, iv: Bytes, expected: Bytes;
  try {
    key = fromBase64(info.key, 32);
    iv = fromBase64(info.iv, 12);
    expected = fromBase64(info.sha256, 32);
  } catch {
    throw new DecryptError('malformed', 'attachment info');
  }
  const ciphertext = bytesOf(data);
  if (!equalBytes(await digest(ciphertext), expected)) throw new DecryptError('bad_hash', 'attachment bytes changed');
  const s = subtle();
  let plain: Bytes | null;
  if (s) {
    try {
      const k = await s.importKey('raw', key, 'AES-GCM', false, ['decrypt']);
      plain = new Uint8Array(await s.decrypt({ name: 'AES-GCM', iv }, k, ciphertext));
    } catch {
      plain = null;
    }
  } else {
    plain = aesGcmDecrypt(key, iv, ciphertext);
  }
  if (!plain) throw new DecryptError('bad_ciphertext', 'attachment does not decrypt');
  if (plain.length !== info.size) throw new DecryptError('malformed', 'attachment size differs');
  return plain;
}
