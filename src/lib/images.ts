// Profile pictures: a file or a `data:image/…;base64,` string, checked by its bytes.
import { fileTypeFromBuffer } from 'file-type';
import { AppError, fieldError } from '../errors.js';

const IMAGE_TYPES = new Map([
  ['image/png', 'png'],
  ['image/jpeg', 'jpg'],
  ['image/gif', 'gif'],
  ['image/webp', 'webp'],
]);

/**
 * Splits a base64 data URL into its media type (as written) and its still-encoded payload, so a
 * caller can check the payload's length before decoding it; null when the string is not one.
 */
export function parseDataUrl(value: string): { mime: string; base64: string } | null {
  const m = /^data:([\w.+-]+\/[\w.+-]+)(?:;[\w=.+-]+)*;base64,([A-Za-z0-9+/=\s]*)$/.exec(value);
  return m ? { mime: m[1], base64: m[2] } : null;
}

/** Decodes a base64 data URL; null when the string is not one. */
export function decodeDataUrl(value: string): { mime: string; data: Buffer } | null {
  const parsed = parseDataUrl(value);
  if (!parsed) return null;
  return { mime: parsed.mime.toLowerCase(), data: Buffer.from(parsed.base64, 'base64') };
}

/** 413 for an image over `maxBytes`, as a field error. */
export function imageTooLarge(field: string, maxBytes: number): AppError {
  const text = `The image is larger than ${maxBytes} bytes.`;
  return new AppError(413, 'too_large', text, { [field]: [text] });
}

/** Accepts a Buffer (uploaded file) or a data URL; returns the bytes and extension of a real image. */
export async function readImage(field: string, value: unknown, maxBytes: number): Promise<{ data: Buffer; ext: string }> {
  let data: Buffer;
  if (Buffer.isBuffer(value)) data = value;
  else if (typeof value === 'string') {
    const decoded = decodeDataUrl(value);
    if (!decoded) throw fieldError(field, 'Upload a file or send a data:image/...;base64, URL.');
    data = decoded.data;
  } else throw fieldError(field, 'Upload a file or send a data:image/...;base64, URL.');
  if (data.length === 0) throw fieldError(field, 'The submitted file is empty.');
  if (data.length > maxBytes) throw imageTooLarge(field, maxBytes);
  const type = await fileTypeFromBuffer(data);
  const ext = type && IMAGE_TYPES.get(type.mime);
  if (!ext) throw fieldError(field, 'Upload a valid image (PNG, JPEG, GIF or WebP). The file you uploaded was either not an image or a corrupted image.');
  return { data, ext };
}
