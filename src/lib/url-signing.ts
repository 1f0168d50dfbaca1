// HMAC-SHA256 signatures for URLs that must work without an Authorization header (<img src>,
// download links). Each purpose gets its own key, derived (HKDF-SHA256) from the JWT signing
// secret under a distinct label: never the JWT key itself, and a signature made for one purpose
// is worthless for another.
import crypto from 'node:crypto';

export class UrlSigner {
  private readonly key: Buffer;

  constructor(secret: Uint8Array, label: string) {
    this.key = Buffer.from(crypto.hkdfSync('sha256', secret, Buffer.alloc(0), `chat-server url signature: ${label}`, 32));
  }

  /** base64url HMAC-SHA256 of the parts (joined by a separator none of them may contain). */
  sign(parts: Array<string | number>): string {
    const text = parts.map(String).join('\n');
    return crypto.createHmac('sha256', this.key).update(text).digest('base64url');
  }

  /** Constant-time check of `signature` against the parts. */
  verify(parts: Array<string | number>, signature: string): boolean {
    const expected = Buffer.from(this.sign(parts));
    const given = Buffer.from(signature);
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  }
}
