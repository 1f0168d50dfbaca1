import { Type } from 'typebox';
import { Id } from '../../http/schemas.js';

export const FILE_TYPES = ['image', 'document', 'audio', 'video', 'encrypted'] as const;

export const FileType = Type.Enum([...FILE_TYPES], {
  description:
    'What the file must be, checked against its bytes (magic numbers), never its name or declared type. ' +
    'image: PNG, JPEG, GIF, WebP, AVIF, HEIC/HEIF, BMP (no SVG: it can carry script). ' +
    'audio: MP3, AAC, M4A/MP4 audio, WAV, FLAC, Ogg (Vorbis, Opus), WebM, AMR. ' +
    'video: MP4/M4V, QuickTime (MOV), WebM, Matroska, Ogg video, 3GP, AVI. ' +
    'document: PDF, Office Open XML (DOCX, XLSX, PPTX), OpenDocument (ODT, ODS, ODP), RTF, EPUB, legacy Office (DOC, XLS, PPT: ' +
    'only with that file-name extension), and UTF-8 plain text (TXT, CSV, TSV, Markdown, logs, JSON) without NUL or other binary bytes. ' +
    'Archives, executables, HTML and SVG are refused. ' +
    'encrypted: ciphertext from an end-to-end encrypting client, in encrypted rooms only (and the only type an encrypted room takes): any bytes, never sniffed or processed, ' +
    'served as application/octet-stream for download, under the name attachment.bin (the real name belongs inside the encrypted message).',
});

const attachmentProps = {
  id: Type.Integer(),
  message: Type.Integer(),
  file_type: FileType,
  mime_type: Type.String({ description: 'From the content (served as Content-Type)' }),
  file_name: Type.String({ description: "The uploader's file name, cleaned (no path, no control characters; extension matching the content)" }),
  size: Type.Integer({ description: 'Bytes' }),
  download_url: Type.String({
    description: 'Path of the download (`/api/attachments/{id}/download/`), the same for every reader and in events; members of the room only, with the bearer token.',
  }),
  created_at: Type.String(),
};

/** As shown in a message's `attachment` (REST and events). */
export const Attachment = Type.Object(attachmentProps);

/** As answered by the attachment routes: with an absolute `file` URL and the caller's signed link. */
export const AttachmentDetail = Type.Object({
  ...attachmentProps,
  file: Type.String({ description: 'Absolute URL of the download (PUBLIC_URL or the request origin)' }),
  signed_url: Type.String({
    description:
      'Path of the download for the caller without any header (`<img src>`, links): `/api/attachments/{id}/download/?expires=<unix seconds>&user=<your id>&sig=<signature>`. ' +
      'Valid until `signed_url_expires_at` (an hour or a little more; the same URL for about 10 minutes), and only while you may read the attachment.',
  }),
  signed_url_expires_at: Type.String({ description: 'When `signed_url` stops working (ISO-8601 UTC)' }),
});

export const DownloadQuery = Type.Object({
  expires: Type.Optional(Type.String({ maxLength: 20, description: 'From `signed_url`: its expiry, unix seconds' })),
  user: Type.Optional(Type.String({ maxLength: 20, description: 'From `signed_url`: the reader it was made for' })),
  sig: Type.Optional(Type.String({ maxLength: 128, description: 'From `signed_url`: the signature' })),
});

export const DataUrlBody = Type.Object({
  message: Id,
  file_type: FileType,
  file: Type.String({ minLength: 1, description: 'A `data:<type>;base64,<bytes>` URL; the declared type is ignored, the bytes decide. Bounded by BODY_LIMIT.' }),
  file_name: Type.Optional(Type.String({ maxLength: 255, description: 'Shown as the download name (default: attachment-<id>.<ext>)' })),
});

export const MultipartBodyDoc = Type.Object({
  file: Type.String({ contentMediaType: 'application/octet-stream', description: 'The file (one), streamed to storage; over UPLOAD_MAX_BYTES → 413' }),
  message: Type.String({ description: 'Id of your message' }),
  file_type: FileType,
});
