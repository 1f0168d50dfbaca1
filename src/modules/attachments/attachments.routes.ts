import multipart, { type MultipartFile } from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type, type TSchema } from 'typebox';
import type { AppContext } from '../../context.js';
import type { AttachmentFileType, AttachmentRow } from '../../db/schema.js';
import { AppError, fieldErrors, notFound, unauthorized, type FieldErrors } from '../../errors.js';
import { IdParams, errors } from '../../http/schemas.js';
import { MULTIPART_OVERHEAD_BYTES, refuseDeclaredOver } from '../../http/too-large.js';
import { origin } from '../../http/urls.js';
import type { DownloadLinks } from './attachments.links.js';
import { contentDisposition, dispositionOf } from './attachments.content.js';
import { parseRange } from './attachments.range.js';
import { AttachmentDetail, DataUrlBody, DownloadQuery, FILE_TYPES, MultipartBodyDoc } from './attachments.schemas.js';
import { drain, type AttachmentsService, type ReceivedFile } from './attachments.service.js';
import { attachmentDetail } from './attachments.view.js';

const MAX_ID = 2_147_483_647;
const parseId = (v: string | undefined) => (v !== undefined && /^\s*\d{1,10}\s*$/.test(v) && Number(v) >= 1 && Number(v) <= MAX_ID ? Number(v) : null);
const parseFileType = (v: string | undefined) => (FILE_TYPES as readonly string[]).includes(v?.trim() ?? '') ? (v!.trim() as AttachmentFileType) : null;

export const attachmentsRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext; attachments: AttachmentsService; links: DownloadLinks }> = async (app, { ctx, attachments, links }) => {
  // Streaming multipart in this scope only: files are never buffered whole (no attachFieldsToBody).
  // The parser lets one byte past the limit through, so receiveStream sees the file pass it and
  // answers 413 at once (instead of the parser skipping the rest of the file first).
  const limits = { fileSize: ctx.config.uploadMaxBytes + 1, files: 1, fields: 10, fieldSize: 1024, parts: 16, headerPairs: 100 };
  await app.register(multipart, { limits });
  /** The largest multipart body a file within the limit can make: the file, the text fields and the framing. */
  const maxMultipartBytes = ctx.config.uploadMaxBytes + limits.fields * limits.fieldSize + MULTIPART_OVERHEAD_BYTES;
  const tags = ['attachments'];
  /** An attachment as its routes answer it: with the absolute URL and the caller's own signed link. */
  const detail = (request: FastifyRequest, a: AttachmentRow) => attachmentDetail(a, origin(request, ctx.config), links.link(a.id, request.auth.userId));

  /** multipart/form-data: fields may come before or after the file; the file streams to storage as it arrives. */
  async function receiveMultipart(request: FastifyRequest, quotaLeft: number): Promise<{ messageId: number; fileType: AttachmentFileType; file: ReceivedFile }> {
    const userId = request.auth.userId;
    const fields: Record<string, string> = Object.create(null);
    let file: ReceivedFile | null = null;
    try {
      for await (const part of request.parts()) {
        if (part.type !== 'file') {
          fields[part.fieldname] = String(part.value);
          continue;
        }
        const upload = part as MultipartFile;
        const messageId = parseId(fields.message);
        try {
          if (upload.fieldname !== 'file') throw fieldErrors({ [upload.fieldname]: ['Unexpected file: send the file in the "file" field.'] });
          // The form named the message first: refuse before storing anything.
          if (messageId !== null) await attachments.checkTarget(userId, messageId, undefined, parseFileType(fields.file_type) ?? undefined);
        } catch (err) {
          await drain(upload.file[Symbol.asyncIterator]());
          throw err;
        }
        file = await attachments.receiveStream(upload.file, upload.filename, {
          expected: parseFileType(fields.file_type) ?? undefined,
          truncated: () => upload.file.truncated,
          quotaLeft,
        });
      }
      const messageId = parseId(fields.message);
      const fileType = parseFileType(fields.file_type);
      const problems: FieldErrors = {};
      if (!file) problems.file = ['No file was submitted.'];
      if (messageId === null) problems.message = [fields.message === undefined ? 'This field is required.' : 'A valid integer is required.'];
      if (fileType === null) {
        problems.file_type = [fields.file_type === undefined ? 'This field is required.' : `"${fields.file_type}" is not a valid choice (image, document, audio, video or encrypted).`];
      }
      if (Object.keys(problems).length) throw fieldErrors(problems);
      return { messageId: messageId!, fileType: fileType!, file: file! };
    } catch (err) {
      await attachments.discard(file);
      throw err;
    }
  }

  app.post('/api/attachments/', {
    config: { maxBodyBytes: maxMultipartBytes },
    onRequest: refuseDeclaredOver(maxMultipartBytes, () => attachments.tooLarge()),
    // Multipart fields are read (and checked) by the handler as the stream arrives, not by the schema.
    preValidation: async (request) => {
      if (request.isMultipart()) request.body = {};
    },
    schema: {
      tags,
      summary: 'Attach a file to your message',
      description:
        'multipart/form-data with `file`, `message` and `file_type` (the seed\'s form), or JSON / a urlencoded form with `file` as a ' +
        '`data:<type>;base64,` URL (bounded by BODY_LIMIT). Only the message\'s sender (403 for other members, 404 for anyone else); ' +
        'one attachment per message (400 if it has one, or was deleted). The file\'s bytes must be of `file_type` (see its allow-list), whatever its ' +
        'name or declared type say: otherwise 400. Over UPLOAD_MAX_BYTES → 413 `{"file": ["…"]}`, nothing stored, sent as soon as that is known: ' +
        'from Content-Length when it is larger than the file limit plus the form\'s allowance (text fields and multipart framing), before anything is read, ' +
        'else when the stream passes the limit. The server then says `Connection: close`, keeps reading and dropping the rest of the body ' +
        '(up to the larger of 8 MiB and that allowance, for at most 10 s) and closes after the client, so the client receives the 413 rather than a reset connection. ' +
        'Stored under a name the server chooses. ' +
        'Each user may have UPLOAD_QUOTA_BYTES_PER_USER bytes of attachments stored (default 536870912, 512 MiB; 0 = no quota): an upload that would pass it → 413 ' +
        '`{"file": ["…upload quota of N bytes…"]}` (code `upload_quota_exceeded`), nothing stored, at once when the quota is used up, else as soon as the file passes what is left; ' +
        'decided in the transaction that stores the attachment, so concurrent uploads cannot pass it together. Deleting an attachment, or its message, frees its bytes. ' +
        'RATE_LIMIT_UPLOADS_PER_USER uploads a minute per user (default 100; every attempt counts, whatever its outcome; 0 = off) → 429 with Retry-After, before anything is read. ' +
        'The room receives `message_updated` with the message showing its `attachment`.',
      // One schema per content type (Fastify validates the one matching the request).
      body: {
        content: {
          'multipart/form-data': { schema: Type.Partial(MultipartBodyDoc, { description: 'All three fields are required.' }) },
          'application/json': { schema: DataUrlBody },
          'application/x-www-form-urlencoded': { schema: DataUrlBody },
        },
      } as unknown as TSchema,
      response: { 201: AttachmentDetail, ...errors(400, 401, 403, 404, 413, 429) },
    },
  }, async (request, reply) => {
    const userId = request.auth.userId;
    await attachments.countUpload(userId);
    const quotaLeft = await attachments.quotaLeft(userId);
    let target: { messageId: number; fileType: AttachmentFileType; file: ReceivedFile };
    if (request.isMultipart()) target = await receiveMultipart(request, quotaLeft);
    else {
      const body = request.body as { message: number; file_type: AttachmentFileType; file: string; file_name?: string };
      await attachments.checkTarget(userId, body.message, undefined, body.file_type);
      target = { messageId: body.message, fileType: body.file_type, file: await attachments.receiveDataUrl(body.file, body.file_name, body.file_type, quotaLeft) };
    }
    const row = await attachments.attach(userId, target.messageId, target.fileType, target.file);
    return reply.code(201).send(detail(request, row));
  });

  app.get('/api/attachments/:id/', {
    schema: { tags, summary: 'An attachment (members of its room)', params: IdParams, response: { 200: AttachmentDetail, ...errors(401, 404) } },
  }, async (request) => detail(request, await attachments.get(request.auth.userId, request.params.id)));

  app.get('/api/attachments/:id/download/', {
    // The bearer header or the signed link's query (checked in the handler, against the validated
    // id); with neither, 401 before anything else, as on every secured route.
    config: { auth: 'optional' },
    onRequest: async (request) => {
      if (request.auth) return;
      const q = request.query as Record<string, unknown>;
      if (typeof q.expires !== 'string' || typeof q.user !== 'string' || typeof q.sig !== 'string') throw unauthorized();
    },
    schema: {
      tags,
      summary: 'Download the file (members of its room), with the bearer token or a signed link',
      description:
        'Either `Authorization: Bearer <access>` or the query of a `signed_url` (`expires`, `user`, `sig`) from GET /api/attachments/{id}/ or the upload\'s answer, ' +
        'for `<img src>` and links that cannot send a header. Neither valid (a tampered or expired link and no valid token) → 401. ' +
        'Active members of the room only (404 for anyone else); with a link, the member it was made for, checked now, so a link stops working once they leave. ' +
        'Content-Type is the type found in the bytes; `X-Content-Type-Options: nosniff`; ' +
        'images, audio and video are `inline`, documents `attachment`, with the file name in `filename` (ASCII) and `filename*` (UTF-8). ' +
        '`Cache-Control: private, no-cache` with the token, `private, max-age=<seconds the link has left>` with a link. ' +
        'Single byte ranges (`Range: bytes=a-b`, `a-`, `-n`) answer 206 with Content-Range, or 416 when they start past the end; ' +
        'several ranges, or an `If-Range` that does not match the ETag, get the whole file (200).',
      params: IdParams,
      querystring: DownloadQuery,
      response: {
        200: Type.Unsafe({ description: 'The file' }),
        206: Type.Unsafe({ description: 'The requested byte range' }),
        ...errors(401, 404),
        416: { ...errors(416)[416], description: 'Range not satisfiable (see Content-Range: bytes */size)' },
      },
    },
  }, async (request, reply) => {
    const id = request.params.id;
    let a: Awaited<ReturnType<AttachmentsService['get']>>;
    let cacheControl = 'private, no-cache';
    if (request.auth) a = await attachments.get(request.auth.userId, id);
    else {
      const now = Date.now();
      const link = links.verify(id, request.query, now);
      if (!link) throw unauthorized('The download link is invalid or has expired.');
      a = await attachments.getForLink(link.userId, id);
      cacheControl = `private, max-age=${Math.max(0, Math.floor((link.expires * 1000 - now) / 1000))}`;
    }
    const size = await ctx.store.size(a.storage_key);
    if (size === null) {
      request.log.warn({ attachmentId: a.id }, 'attachment file is missing from storage');
      throw notFound('No such attachment.');
    }
    const etag = `"a${a.id}-${size}"`;
    const ifRange = request.headers['if-range'];
    const range = ifRange === undefined || ifRange === etag ? parseRange(request.headers.range, size) : null;
    reply.header('accept-ranges', 'bytes').header('etag', etag).header('cache-control', cacheControl);
    if (range === 'unsatisfiable') {
      throw new AppError(416, 'range_not_satisfiable', 'The requested range is outside the file.', undefined, { 'content-range': `bytes */${size}` });
    }
    reply
      .header('content-type', a.mime_type)
      .header('x-content-type-options', 'nosniff')
      .header('content-disposition', contentDisposition(dispositionOf(a.file_type), a.file_name))
      // Even opened in a tab, a file can run nothing in our origin.
      .header('content-security-policy', "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox");
    if (range) {
      return reply
        .code(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${size}`)
        .header('content-length', range.end - range.start + 1)
        .send(ctx.store.read(a.storage_key, range));
    }
    return reply.header('content-length', size).send(ctx.store.read(a.storage_key));
  });

  app.delete('/api/attachments/:id/', {
    schema: {
      tags,
      summary: 'Delete an attachment (the message\'s sender)',
      description: '403 for other members, 404 for anyone else. The file is removed; the room receives `message_updated` with `attachment: null`.',
      params: IdParams,
      response: { 204: Type.Null(), ...errors(401, 403, 404) },
    },
  }, async (request, reply) => {
    await attachments.remove(request.auth.userId, request.params.id);
    return reply.code(204).send(null);
  });
};
