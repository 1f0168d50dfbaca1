import { Readable } from 'node:stream';
import type { AppContext } from '../../context.js';
import { nowIso } from '../../context.js';
import { isUniqueViolation } from '../../db/dialect.js';
import type { AttachmentFileType, AttachmentRow, Db } from '../../db/schema.js';
import { AppError, fieldError, forbidden, notFound } from '../../errors.js';
import { parseDataUrl } from '../../lib/images.js';
import { enforceLimit } from '../../lib/rate-limit.js';
import { newKey } from '../../lib/storage.js';
import type { UnitOfWork } from '../events/unit-of-work.js';
import { activeMemberOf, memberMessage } from '../messages/messages.access.js';
import { messagesRepository } from '../messages/messages.repository.js';
import type { MessagesService } from '../messages/messages.service.js';
import { messageView } from '../messages/messages.view.js';
import type { RoomsService } from '../rooms/rooms.service.js';
import { usersRepository } from '../users/users.repository.js';
import { cleanFileName, contentTypeFor, OPAQUE, SNIFF_BYTES, sniff, sniffUndecided, type Sniffed } from './attachments.content.js';
import { attachmentsRepository, type AttachmentWithMessage } from './attachments.repository.js';

/** A file in storage, not yet attached to a message (delete it if attaching fails). */
export interface ReceivedFile {
  key: string;
  size: number;
  name: string;
  sniffed: Sniffed;
}

const NO_ATTACHMENT = 'No such attachment.';
/** An encrypted attachment's name: the uploader's would be plaintext beside the ciphertext. */
const ENCRYPTED_NAME = 'attachment.bin';

/** What the bytes are: not looked at for `encrypted`; a refusal deferred while the file_type is unknown. */
async function classify(head: Buffer, complete: boolean, name: string, expected: AttachmentFileType | undefined): Promise<Sniffed> {
  if (head.length === 0) throw fieldError('file', 'The submitted file is empty.');
  if (expected === 'encrypted') return OPAQUE;
  return expected ? sniff(head, complete, name) : sniffUndecided(head, complete, name);
}

/** Reads an upload to its end without keeping it (bounded by the multipart file size limit). */
export async function drain(it: AsyncIterator<unknown>): Promise<void> {
  try {
    while (!(await it.next()).done);
  } catch {
    // A broken upload: nothing left to read.
  }
}

export class AttachmentsService {
  constructor(private readonly ctx: AppContext) {}

  /** A deleted message loses its attachment (the file goes once the deletion commits). */
  async onMessageDeleted(uow: UnitOfWork, messageId: number): Promise<void> {
    this.removeFilesAfterCommit(uow, await attachmentsRepository.deleteForMessage(uow.trx, messageId));
  }

  /** A deleted room loses every file of its messages (its rows go with the room). */
  async onRoomDeleted(uow: UnitOfWork, chatRoomId: number): Promise<void> {
    this.removeFilesAfterCommit(uow, await attachmentsRepository.keysForRoom(uow.trx, chatRoomId));
  }

  get maxBytes(): number {
    return this.ctx.config.uploadMaxBytes;
  }

  /** UPLOAD_QUOTA_BYTES_PER_USER: bytes of attachments one user may have stored (0 = no quota). */
  get quotaBytes(): number {
    return this.ctx.config.uploadQuotaBytesPerUser;
  }

  /** Counts one upload of `userId`: 429 with Retry-After beyond RATE_LIMIT_UPLOADS_PER_USER a minute. */
  countUpload(userId: number): Promise<void> {
    return enforceLimit(this.ctx.limiter, `uploads:${userId}`, this.ctx.config.rateLimits.uploadsPerUserPerMin, 60);
  }

  /**
   * Bytes `userId` may still upload before the quota (Infinity without one); 413 at once when
   * nothing is left. A first look, before anything is received: attach() decides.
   */
  async quotaLeft(userId: number): Promise<number> {
    const quota = this.quotaBytes;
    if (quota <= 0) return Infinity;
    const used = await attachmentsRepository.storedBytes(this.ctx.db, userId);
    if (used >= quota) throw this.overQuota(used);
    return quota - used;
  }

  /**
   * The quota's decision, in the transaction that inserts the attachment: the uploader's row is
   * locked first, so two uploads of one user (to any rooms, on any instance) are checked one after
   * the other, each seeing the other's bytes once it has committed.
   */
  private async checkQuota(trx: Db, userId: number, size: number): Promise<void> {
    const quota = this.quotaBytes;
    if (quota <= 0) return;
    await attachmentsRepository.lockUploader(trx, userId);
    const used = await attachmentsRepository.storedBytes(trx, userId);
    if (used + size > quota) throw this.overQuota(used);
  }

  /**
   * May `userId` attach a file (of `fileType`, when known) to `messageId`? 404 unless a member of
   * its room, 403 unless its sender, 400 if it is deleted or already has an attachment, or if the
   * file type does not fit the room: an encrypted room takes `encrypted` files only, and only an
   * encrypted room takes them. Checked before a file is stored when the form sends `message` first,
   * and again when attaching.
   */
  async checkTarget(userId: number, messageId: number, db: Db = this.ctx.db, fileType?: AttachmentFileType): Promise<void> {
    const { message, room } = await memberMessage(db, userId, messageId);
    if (message.sender_id !== userId) throw forbidden('Only the sender of a message can attach a file to it.');
    if (fileType !== undefined && (fileType === 'encrypted') !== (room.is_encrypted === 1)) {
      throw fieldError(
        'file_type',
        room.is_encrypted === 1
          ? 'This room is end-to-end encrypted: it takes file_type "encrypted" only (encrypt the file first).'
          : 'file_type "encrypted" is for end-to-end encrypted rooms only.',
      );
    }
    if (message.is_deleted) throw fieldError('message', 'The message was deleted.');
    if (await attachmentsRepository.findByMessage(db, messageId)) {
      throw fieldError('message', 'This message already has an attachment (delete it first to replace it).');
    }
  }

  /**
   * Streams an uploaded file into storage without holding it in memory: its first bytes decide
   * what it is (refused at once if nothing allowed, or not `expected` when that is known), the
   * rest is copied as it arrives. Over UPLOAD_MAX_BYTES → 413 as soon as the stream passes it, and
   * nothing is kept.
   */
  async receiveStream(
    source: Readable,
    fileName: string | undefined,
    opts: { expected?: AttachmentFileType; truncated?: () => boolean; quotaLeft?: number } = {},
  ): Promise<ReceivedFile> {
    const max = this.maxBytes;
    // Past what is left of the quota the file is refused as soon as that is known (413 too).
    const left = opts.quotaLeft ?? Infinity;
    const overQuota = () => this.overQuota(this.quotaBytes - left);
    const it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const headChunks: Buffer[] = [];
    let headBytes = 0;
    let done = false;
    while (headBytes < SNIFF_BYTES) {
      const next = await it.next();
      if (next.done) {
        done = true;
        break;
      }
      headChunks.push(next.value);
      headBytes += next.value.length;
    }
    const head = Buffer.concat(headChunks);
    let sniffed: Sniffed;
    try {
      if (head.length > max || opts.truncated?.()) throw this.tooLarge();
      if (head.length > left) throw overQuota();
      sniffed = await classify(head, done, fileName ?? '', opts.expected);
      if (opts.expected) contentTypeFor(sniffed, opts.expected);
    } catch (err) {
      // Read the rest and drop it, so the request ends normally and the connection stays usable;
      // but not after a 413: that answer goes at once (see http/too-large.ts).
      if (!(err instanceof AppError && err.statusCode === 413)) await drain(it);
      throw err;
    }
    let size = 0;
    const tooLarge = () => this.tooLarge();
    const body = Readable.from(
      (async function* () {
        size = head.length;
        yield head;
        while (!done) {
          const next = await it.next();
          if (next.done) break;
          size += next.value.length;
          if (size > max) throw tooLarge();
          if (size > left) throw overQuota();
          yield next.value;
        }
      })(),
    );
    const key = newKey('attachments', sniffed.ext);
    await this.ctx.store.put(key, body);
    if (opts.truncated?.() || size > max) {
      await this.ctx.store.delete(key);
      throw this.tooLarge();
    }
    return { key, size, name: cleanFileName(fileName, sniffed.ext), sniffed };
  }

  /** A `data:` URL (JSON or form body): decoded, checked the same way, stored. */
  async receiveDataUrl(value: string, fileName: string | undefined, expected?: AttachmentFileType, quotaLeft = Infinity): Promise<ReceivedFile> {
    const parsed = parseDataUrl(value);
    if (!parsed) throw fieldError('file', 'Upload the file as multipart/form-data, or send a data:<type>;base64,<data> URL.');
    // Base64 needs 4 characters per 3 bytes: anything longer than this cannot fit (checked before decoding).
    if (parsed.base64.length > Math.ceil(this.maxBytes / 3) * 4 + 4096) throw this.tooLarge();
    const data = Buffer.from(parsed.base64, 'base64');
    if (data.length > this.maxBytes) throw this.tooLarge();
    if (data.length > quotaLeft) throw this.overQuota(this.quotaBytes - quotaLeft);
    const sniffed = await classify(data, true, fileName ?? '', expected);
    if (expected) contentTypeFor(sniffed, expected);
    const key = newKey('attachments', sniffed.ext);
    await this.ctx.store.put(key, data);
    return { key, size: data.length, name: cleanFileName(fileName, sniffed.ext), sniffed };
  }

  /** Forgets a received file that will not be attached. */
  async discard(file: ReceivedFile | null): Promise<void> {
    if (file) await this.ctx.store.delete(file.key).catch((err) => this.ctx.log.warn({ err }, 'removing an unused upload failed'));
  }

  /** Attaches a received file to the sender's message; the message's room gets `message_updated` with it. */
  async attach(userId: number, messageId: number, fileType: AttachmentFileType, file: ReceivedFile): Promise<AttachmentRow> {
    try {
      const mime = contentTypeFor(file.sniffed, fileType);
      const room = await messagesRepository.roomOf(this.ctx.db, messageId);
      return await this.ctx.writer.run(room, async (uow) => {
        await this.checkTarget(userId, messageId, uow.trx, fileType);
        await this.checkQuota(uow.trx, userId, file.size);
        const row = await attachmentsRepository.insert(uow.trx, {
          message_id: messageId,
          uploader_id: userId,
          file_type: fileType,
          mime_type: mime,
          file_name: fileType === 'encrypted' ? ENCRYPTED_NAME : file.name,
          size: file.size,
          storage_key: file.key,
          created_at: nowIso(),
        });
        await this.messageChanged(uow, userId, messageId);
        return row;
      });
    } catch (err) {
      await this.discard(file);
      if (isUniqueViolation(err)) throw fieldError('message', 'This message already has an attachment (delete it first to replace it).');
      throw err;
    }
  }

  /** Members of the message's room only (404 for anyone else). */
  async get(userId: number, id: number): Promise<AttachmentWithMessage> {
    const a = await attachmentsRepository.findWithMessage(this.ctx.db, id);
    if (!a) throw notFound(NO_ATTACHMENT);
    await activeMemberOf(this.ctx.db, userId, a.chat_room_id, NO_ATTACHMENT);
    return a;
  }

  /**
   * As get(), for a signed link made for `userId`: the account must also still be active (a
   * deleted account's bearer tokens are revoked; its links are refused here). 404 otherwise.
   */
  async getForLink(userId: number, id: number): Promise<AttachmentWithMessage> {
    if (!(await usersRepository.findActive(this.ctx.db, userId))) throw notFound(NO_ATTACHMENT);
    return this.get(userId, id);
  }

  /** The sender only (403 for other members); the file is removed once the change commits. */
  async remove(userId: number, id: number): Promise<void> {
    const a = await this.get(userId, id);
    if (a.sender_id !== userId) throw forbidden('Only the sender of the message can delete its attachment.');
    await this.ctx.writer.run(a.chat_room_id, async (uow) => {
      // Under the room's lock: a concurrent removal (or message deletion) has committed by now.
      if (!(await attachmentsRepository.findWithMessage(uow.trx, id))) throw notFound(NO_ATTACHMENT);
      await attachmentsRepository.delete(uow.trx, id);
      await this.messageChanged(uow, userId, a.message_id);
      this.removeFilesAfterCommit(uow, [a.storage_key]);
    });
  }

  /** The message now shows its new attachment (or none): one `message_updated` event. */
  private async messageChanged(uow: UnitOfWork, userId: number, messageId: number): Promise<void> {
    await messagesRepository.update(uow.trx, messageId, { updated_at: nowIso() });
    // Messages are only soft-deleted, and the update above throws when the row is missing.
    const record = (await messagesRepository.findById(uow.trx, messageId))!;
    await uow.emit('message_updated', { chatRoomId: record.chat_room_id, userId, messageId }, { message: messageView(record) });
  }

  private removeFilesAfterCommit(uow: UnitOfWork, keys: string[]): void {
    if (keys.length === 0) return;
    uow.onCommit(async () => {
      for (const key of keys) {
        await this.ctx.store.delete(key).catch((err) => this.ctx.log.warn({ err, key }, 'removing an attachment file failed'));
      }
    });
  }

  /** 413 with the file field's message, naming the quota: the upload would take `userId` past it. */
  private overQuota(used: number): AppError {
    const text =
      `This upload would exceed your upload quota of ${this.quotaBytes} bytes (UPLOAD_QUOTA_BYTES_PER_USER; ${used} bytes stored now): ` +
      'delete attachments or their messages to free some.';
    return new AppError(413, 'upload_quota_exceeded', text, { file: [text] });
  }

  /** 413 with the file field's message (also for an upload refused by its Content-Length). */
  tooLarge(): AppError {
    const text = `The file is larger than ${this.maxBytes} bytes.`;
    return new AppError(413, 'too_large', text, { file: [text] });
  }
}
