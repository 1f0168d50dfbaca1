// What an attachment really is, from its bytes: which file_type it may be sent as, the
// Content-Type it is served with, and a safe download name. Client-declared types are ignored.
import { fileTypeFromBuffer } from 'file-type';
import type { AttachmentFileType } from '../../db/schema.js';
import { fieldError } from '../../errors.js';

/** Bytes read before deciding (ZIP-based office formats need their first entries). */
export const SNIFF_BYTES = 64 * 1024;

type Choices = Partial<Record<AttachmentFileType, string>>;

// Detected extension → the file types it may be sent as, each with the Content-Type it is served with.
const ALLOWED: Record<string, Choices> = {
  png: { image: 'image/png' },
  apng: { image: 'image/apng' },
  jpg: { image: 'image/jpeg' },
  gif: { image: 'image/gif' },
  webp: { image: 'image/webp' },
  avif: { image: 'image/avif' },
  heic: { image: 'image/heic' },
  bmp: { image: 'image/bmp' },
  mp3: { audio: 'audio/mpeg' },
  aac: { audio: 'audio/aac' },
  m4a: { audio: 'audio/mp4' },
  wav: { audio: 'audio/wav' },
  flac: { audio: 'audio/flac' },
  ogg: { audio: 'audio/ogg' },
  oga: { audio: 'audio/ogg' },
  opus: { audio: 'audio/ogg' },
  amr: { audio: 'audio/amr' },
  // Containers that hold either: the file_type chosen decides how they are served.
  webm: { video: 'video/webm', audio: 'audio/webm' },
  mp4: { video: 'video/mp4', audio: 'audio/mp4' },
  m4v: { video: 'video/mp4' },
  mov: { video: 'video/quicktime' },
  mkv: { video: 'video/x-matroska' },
  ogv: { video: 'video/ogg' },
  '3gp': { video: 'video/3gpp', audio: 'audio/3gpp' },
  '3g2': { video: 'video/3gpp2' },
  avi: { video: 'video/x-msvideo' },
  pdf: { document: 'application/pdf' },
  docx: { document: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document' },
  xlsx: { document: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
  pptx: { document: 'application/vnd.openxmlformats-officedocument.presentationml.presentation' },
  odt: { document: 'application/vnd.oasis.opendocument.text' },
  ods: { document: 'application/vnd.oasis.opendocument.spreadsheet' },
  odp: { document: 'application/vnd.oasis.opendocument.presentation' },
  rtf: { document: 'application/rtf' },
  epub: { document: 'application/epub+zip' },
  txt: { document: 'text/plain; charset=utf-8' },
};

// Legacy Office files are Compound File Binary containers, like .msi installers: accepted
// only under an Office extension, and served as that type.
const LEGACY_OFFICE: Record<string, string> = {
  doc: 'application/msword',
  xls: 'application/vnd.ms-excel',
  ppt: 'application/vnd.ms-powerpoint',
};

// Names a download may keep for each detected extension (otherwise the detected one is appended).
const NAME_EXTENSIONS: Record<string, string[]> = {
  jpg: ['jpg', 'jpeg', 'jpe', 'jfif'],
  heic: ['heic', 'heif'],
  ogg: ['ogg', 'oga'],
  opus: ['opus', 'ogg'],
  mov: ['mov', 'qt'],
  m4a: ['m4a', 'mp4'],
  mp4: ['mp4', 'm4a', 'm4v'],
  txt: ['txt', 'text', 'csv', 'tsv', 'md', 'markdown', 'log', 'json'],
};

export interface Sniffed {
  /** Extension stored and offered for download. */
  ext: string;
  /** Human-readable description of what was found (for error messages). */
  found: string;
  choices: Choices;
  /** Content in no allow-list, received before its file_type was known: refused with this unless it is `encrypted`. */
  refusal?: Error;
}

/** Served for `encrypted` attachments, whatever their bytes: never sniffed, never rendered. */
export const ENCRYPTED_MIME = 'application/octet-stream';

/** End-to-end encrypted content (file_type `encrypted`): not looked at at all. */
export const OPAQUE: Sniffed = { ext: 'bin', found: 'encrypted data', choices: { encrypted: ENCRYPTED_MIME } };

/**
 * As sniff(), for a file whose file_type is not known yet (a form that sends the file first):
 * content in no allow-list may still be `encrypted`, so its refusal waits for the file_type.
 */
export async function sniffUndecided(head: Buffer, complete: boolean, name: string): Promise<Sniffed> {
  try {
    return await sniff(head, complete, name);
  } catch (err) {
    if (head.length === 0) throw err;
    return { ...OPAQUE, found: 'data of no accepted type', refusal: err as Error };
  }
}

const CONTROL = /[\u0000-\u0008\u000b\u000e-\u001a\u001c-\u001f\u007f]/;

/** UTF-8 text without NUL or other binary control characters (a cut-off last character is allowed when `complete` is false). */
function isText(head: Buffer, complete: boolean): boolean {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: !complete });
    return !CONTROL.test(text);
  } catch {
    return false;
  }
}

const extensionOf = (name: string) => /\.([A-Za-z0-9]{1,10})$/.exec(name)?.[1].toLowerCase() ?? '';

/**
 * Classifies the first bytes of a file (the whole file when `complete`). Refuses (400) what is
 * in no allow-list; `name` only matters to tell legacy Office files from other CFB containers.
 */
export async function sniff(head: Buffer, complete: boolean, name: string): Promise<Sniffed> {
  if (head.length === 0) throw fieldError('file', 'The submitted file is empty.');
  const detected = await fileTypeFromBuffer(head);
  if (!detected) {
    if (isText(head, complete)) return { ext: 'txt', found: 'plain text', choices: ALLOWED.txt };
    throw fieldError('file', 'Unsupported file: its content is not a recognised image, document, audio or video format.');
  }
  if (detected.ext === 'cfb') {
    const ext = extensionOf(name);
    if (LEGACY_OFFICE[ext]) return { ext, found: `a legacy Office file (.${ext})`, choices: { document: LEGACY_OFFICE[ext] } };
  }
  const choices = ALLOWED[detected.ext];
  if (!choices) throw fieldError('file', `Unsupported file: its content is ${detected.mime}, which is not accepted as an attachment.`);
  return { ext: detected.ext, found: detected.mime, choices };
}

/** The Content-Type for `fileType`, or a 400 when the content is something else. */
export function contentTypeFor(s: Sniffed, fileType: AttachmentFileType): string {
  // Ciphertext is whatever bytes it is: served as opaque data, so nothing needs to match.
  if (fileType === 'encrypted') return ENCRYPTED_MIME;
  if (s.refusal) throw s.refusal;
  const mime = s.choices[fileType];
  if (!mime) {
    const fits = Object.keys(s.choices).join(' or ');
    throw fieldError('file_type', `The file's content is ${s.found}, which is not a valid ${fileType} (it fits file_type ${fits}).`);
  }
  return mime;
}

// Bidirectional overrides can make "gpj.exe" read as "exe.jpg".
const UNSAFE_NAME_CHARS = /[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g;
const MAX_NAME = 200;

/** The uploader's file name made safe to show and to offer as a download name; its extension matches the content. */
export function cleanFileName(raw: string | undefined, ext: string): string {
  let name = (raw ?? '').split(/[\\/]/).pop()!.replace(UNSAFE_NAME_CHARS, '').trim();
  name = name.replace(/^\.+/, '');
  const allowed = NAME_EXTENSIONS[ext] ?? [ext];
  if (!allowed.includes(extensionOf(name))) name = `${name || 'attachment'}.${ext}`;
  if (name.length > MAX_NAME) {
    const suffix = name.slice(name.lastIndexOf('.'));
    name = name.slice(0, MAX_NAME - suffix.length) + suffix;
  }
  return name;
}

/** `Content-Disposition` with an ASCII fallback and the exact UTF-8 name (RFC 6266 / 8187). */
export function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%;]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/** Media opens in the browser; documents and encrypted files always download (a PDF or text file never renders in our origin). */
export const dispositionOf = (fileType: AttachmentFileType): 'inline' | 'attachment' => (fileType === 'document' || fileType === 'encrypted' ? 'attachment' : 'inline');
