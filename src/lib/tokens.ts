// Signed tokens (HS256 JWTs). Access tokens are short-lived and carry the session id, so a
// request is authenticated without a database read; refresh tokens carry the session id and
// its rotation generation, and only their SHA-256 is stored.
import crypto from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';

export interface AccessClaims {
  userId: number;
  sessionId: number;
}

export interface RefreshClaims extends AccessClaims {
  generation: number;
}

const ISSUER = 'chat-server';

const VERIFIED_CACHE_SIZE = 10_000;

export class TokenSigner {
  /** Access tokens already verified (token → claims and expiry): a client sends the same one many times. */
  private readonly verified = new Map<string, { claims: AccessClaims; expiresAtMs: number }>();

  constructor(
    private readonly key: Uint8Array,
    readonly accessTtlSec: number,
    readonly refreshTtlSec: number,
  ) {}

  access(c: AccessClaims): Promise<string> {
    return new SignJWT({ sid: c.sessionId, typ: 'access' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(c.userId))
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(`${this.accessTtlSec}s`)
      .sign(this.key);
  }

  refresh(c: RefreshClaims): Promise<string> {
    return new SignJWT({ sid: c.sessionId, gen: c.generation, typ: 'refresh', n: crypto.randomBytes(12).toString('base64url') })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(c.userId))
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(`${this.refreshTtlSec}s`)
      .sign(this.key);
  }

  /** The claims of a valid access token, or null for anything else (expired, forged, wrong type). */
  async verifyAccess(token: string): Promise<AccessClaims | null> {
    const hit = this.verified.get(token);
    if (hit) {
      if (hit.expiresAtMs > Date.now()) return hit.claims;
      this.verified.delete(token);
      return null;
    }
    const p = await this.verify(token, 'access');
    if (!p) return null;
    const claims = { userId: p.userId, sessionId: p.sessionId };
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { claims, expiresAtMs: p.exp * 1000 });
    return claims;
  }

  async verifyRefresh(token: string): Promise<RefreshClaims | null> {
    const p = await this.verify(token, 'refresh');
    if (!p || !Number.isSafeInteger(p.gen)) return null;
    return { userId: p.userId, sessionId: p.sessionId, generation: p.gen as number };
  }

  private async verify(token: string, typ: string) {
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], issuer: ISSUER });
      const userId = Number(payload.sub);
      const sessionId = payload.sid;
      if (payload.typ !== typ || !Number.isSafeInteger(userId) || !Number.isSafeInteger(sessionId)) return null;
      return { userId, sessionId: sessionId as number, gen: payload.gen, exp: payload.exp as number };
    } catch (err) {
      if (err instanceof joseErrors.JOSEError || err instanceof TypeError) return null;
      throw err;
    }
  }
}

export const sha256 = (value: string) => crypto.createHash('sha256').update(value).digest('base64url');
