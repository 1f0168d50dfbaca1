// Signed download links: `<img src>` and plain links cannot send a bearer header, so an attachment
// answer carries a URL that names the reader and an expiry, signed by the server. Whoever holds it
// may download until it expires, but only while that reader may still read the attachment.
import type { UrlSigner } from '../../lib/url-signing.js';
import { downloadPath } from './attachments.view.js';

/** A link lives at least this long… */
export const SIGNED_URL_TTL_SEC = 3600;
/** …and its expiry is rounded up to a multiple of this, so a reader gets the same URL (and browser cache hits) for that long. */
export const SIGNED_URL_ROUNDING_SEC = 600;

const PURPOSE = 'attachment-download';

export interface SignedLink {
  signed_url: string;
  signed_url_expires_at: string;
}

export interface LinkQuery {
  expires?: string;
  user?: string;
  sig?: string;
}

const UINT = /^\d{1,15}$/;

export class DownloadLinks {
  constructor(private readonly signer: UrlSigner) {}

  /** The expiry of a link made at `nowSec`: an hour or a little more, on a 10-minute boundary. */
  static expiryFor(nowSec: number): number {
    return Math.ceil((nowSec + SIGNED_URL_TTL_SEC) / SIGNED_URL_ROUNDING_SEC) * SIGNED_URL_ROUNDING_SEC;
  }

  /** The signed path for `userId` to download attachment `id` until `expires` (unix seconds). */
  pathFor(id: number, userId: number, expires: number): string {
    const sig = this.signer.sign([PURPOSE, id, userId, expires]);
    return `${downloadPath(id)}?expires=${expires}&user=${userId}&sig=${sig}`;
  }

  link(id: number, userId: number, nowMs = Date.now()): SignedLink {
    const expires = DownloadLinks.expiryFor(Math.floor(nowMs / 1000));
    return { signed_url: this.pathFor(id, userId, expires), signed_url_expires_at: new Date(expires * 1000).toISOString() };
  }

  /** The reader and expiry of a valid, unexpired link to attachment `id`; null for anything else. */
  verify(id: number, q: LinkQuery, nowMs = Date.now()): { userId: number; expires: number } | null {
    if (!q.expires || !q.user || !q.sig || !UINT.test(q.expires) || !UINT.test(q.user)) return null;
    const expires = Number(q.expires);
    const userId = Number(q.user);
    if (expires * 1000 <= nowMs) return null;
    return this.signer.verify([PURPOSE, id, userId, expires], q.sig) ? { userId, expires } : null;
  }
}
