// Small but real files of each attachment type (their magic bytes are what the server checks),
// and helpers to upload them and look at the storage directory.
import fs from 'node:fs';
import path from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { PNG, multipart, type TestApp, type TestUser } from './helpers.js';

const bytes = (...parts: Array<string | number[] | Buffer>) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

function box(type: string, body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeUInt32BE(8 + body.length);
  return Buffer.concat([size, Buffer.from(type, 'latin1'), body]);
}

/** A ZIP with stored (uncompressed) entries: enough for Office Open XML and OpenDocument detection. */
function zip(entries: Array<[string, string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, content] of entries) {
    const data = Buffer.from(content);
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt32LE(data.length, 18);
    header.writeUInt32LE(data.length, 22);
    header.writeUInt16LE(Buffer.byteLength(name), 26);
    parts.push(header, Buffer.from(name), data);
  }
  return Buffer.concat(parts);
}

/** Pads a file with zero bytes to `size` (containers keep their magic at the start). */
export const padTo = (data: Buffer, size: number) => Buffer.concat([data, Buffer.alloc(Math.max(0, size - data.length))]);

const CONTENT_TYPES =
  '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
  '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>';

export const FILES = {
  png: PNG,
  jpg: bytes([0xff, 0xd8, 0xff, 0xe0, 0, 16], 'JFIF\0', [1, 1, 0, 0, 1, 0, 1, 0, 0], [0xff, 0xd9]),
  gif: bytes('GIF89a', [1, 0, 1, 0, 0, 0, 0], ';'),
  pdf: bytes('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n'),
  docx: zip([['[Content_Types].xml', CONTENT_TYPES], ['word/document.xml', '<w:document/>']]),
  txt: Buffer.from('Meeting notes: ünïcödé is fine.\nsecond line\n'),
  mp3: bytes('ID3', [4, 0, 0, 0, 0, 0, 0], [0xff, 0xfb, 0x90, 0x64], Buffer.alloc(400)),
  ogg: bytes('OggS', [0, 2], Buffer.alloc(8), [1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [1, 19], 'OpusHead', [1, 1, 0, 0, 0x80, 0xbb, 0, 0, 0, 0, 0]),
  wav: bytes('RIFF', [0x24, 0, 0, 0], 'WAVEfmt ', [16, 0, 0, 0, 1, 0, 1, 0, 0x44, 0xac, 0, 0, 0x88, 0x58, 1, 0, 2, 0, 16, 0], 'data', [0, 0, 0, 0]),
  mp4: box('ftyp', bytes('isom', [0, 0, 2, 0], 'isomiso2mp41')),
  webm: bytes([0x1a, 0x45, 0xdf, 0xa3, 0x87, 0x42, 0x82, 0x84], 'webm'),
  exe: bytes('MZ', Buffer.alloc(200)),
  html: Buffer.from('<!doctype html><script>alert(document.cookie)</script>'),
  svg: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
  zip: zip([['notes.txt', 'hello']]),
};

export type FileName = keyof typeof FILES;

/** A video large enough to need several range requests. */
export const bigVideo = (size: number) => padTo(FILES.mp4, size);

export const dataUrl = (data: Buffer, declared = 'application/octet-stream') => `data:${declared};base64,${data.toString('base64')}`;

/** POST /api/attachments/ as multipart; `order` puts the file first (as the seed's Postman client did) or last. */
export function uploadMultipart(
  t: TestApp,
  user: TestUser,
  fields: { message?: number | string; file_type?: string; file?: { data: Buffer; filename?: string; type?: string } },
  order: 'file-first' | 'file-last' = 'file-first',
): Promise<LightMyRequestResponse> {
  const form: Parameters<typeof multipart>[0] = {};
  const file = fields.file && { filename: fields.file.filename ?? 'upload.bin', type: fields.file.type ?? 'application/octet-stream', data: fields.file.data };
  if (file && order === 'file-first') form.file = file;
  if (fields.message !== undefined) form.message = String(fields.message);
  if (fields.file_type !== undefined) form.file_type = fields.file_type;
  if (file && order === 'file-last') form.file = file;
  const { payload, headers } = multipart(form);
  return t.app.inject({ method: 'POST', url: '/api/attachments/', payload, headers: { ...headers, ...user.auth } });
}

export function uploadDataUrl(t: TestApp, user: TestUser, body: Record<string, unknown>): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: 'POST', url: '/api/attachments/', payload: body as Record<string, string>, headers: user.auth });
}

/** The files in the app's attachment storage (names only). */
export function storedFiles(t: TestApp): string[] {
  const dir = path.join(t.env.dataDir, 'uploads', 'attachments');
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}
