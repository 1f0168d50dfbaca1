// Files: what kind the server should check a file as, sizes as people read them, and signed
// download URLs (for <img> and links, which cannot send a bearer token), cached until near expiry.
import type { Api } from './http.js';
import type { AttachmentDetail, FileType } from './types.js';

export function fileTypeOf(mime: string): FileType {
  if (mime.startsWith('image/')) return 'image';
  if (mime.startsWith('audio/')) return 'audio';
  if (mime.startsWith('video/')) return 'video';
  return 'document';
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MB`;
  return `${(n / 1024 ** 3).toFixed(1)} GB`;
}

/** A signed URL is asked for again when less than this is left of it. */
const RENEW_BEFORE_MS = 5 * 60_000;

export class SignedUrls {
  private readonly cache = new Map<number, { url: string; expiresAt: number }>();

  constructor(private readonly api: Api) {}

  async get(attachmentId: number): Promise<string> {
    const hit = this.cache.get(attachmentId);
    if (hit && hit.expiresAt - Date.now() > RENEW_BEFORE_MS) return hit.url;
    const a = await this.api.get<AttachmentDetail>(`/api/attachments/${attachmentId}/`);
    const url = this.api.url(a.signed_url);
    this.cache.set(attachmentId, { url, expiresAt: Date.parse(a.signed_url_expires_at) });
    return url;
  }

  clear(): void {
    this.cache.clear();
  }
}
