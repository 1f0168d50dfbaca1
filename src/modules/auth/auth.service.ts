import { addressBucket, enforceLimit } from '../../lib/rate-limit.js';
import type { AppContext } from '../../context.js';
import { nowIso } from '../../context.js';
import { AppError, fieldErrors, unauthorized } from '../../errors.js';
import { passwordProblems } from '../../lib/passwords.js';
import type { SessionRow, UserRow } from '../../db/schema.js';
import { sha256 } from '../../lib/tokens.js';
import { callerAccount } from '../users/users.access.js';
import { emailKey, usersRepository } from '../users/users.repository.js';
import { sessionsRepository } from './sessions.repository.js';

export interface TokenPair {
  access: string;
  refresh: string;
}

export interface Principal {
  userId: number;
  sessionId: number;
}

/** A rotation for a browser session (see refreshBrowser). */
export interface BrowserRefresh extends Principal {
  access: string;
  /** The new refresh token; null when the caller already holds the current one (a concurrent tab's rotation). */
  refresh: string | null;
}

const BAD_CREDENTIALS = 'No active account found with the given credentials.';

/**
 * How long, after a refresh token was rotated, the browser-session route still accepts the token it
 * replaced. Tabs of one browser share the refresh cookie and may all refresh at the same moment:
 * the first rotates, the others present the same (now previous) token a few milliseconds later. Within
 * this window they get a new access token of the same session and no new cookie (the browser already
 * holds the newer one), instead of tripping re-use detection. Older tokens, or the previous one
 * after the window, still revoke the session. The JSON route (/api/auth/token/refresh/) has no window.
 */
export const REFRESH_REUSE_GRACE_MS = 30_000;

export interface AuthOptions {
  /** Milliseconds since the epoch (tests move it instead of waiting). */
  clock?: () => number;
}

export class AuthService {
  private readonly clock: () => number;

  constructor(private readonly ctx: AppContext, opts: AuthOptions = {}) {
    this.clock = opts.clock ?? Date.now;
  }

  /** Who a bearer token belongs to, or null. No database read: the signature and the revocation list answer. */
  async authenticate(accessToken: string): Promise<Principal | null> {
    const claims = await this.ctx.tokens.verifyAccess(accessToken);
    if (!claims || this.ctx.revocations.isRevoked(claims.sessionId)) return null;
    return claims;
  }

  isRevoked(sessionId: number): boolean {
    return this.ctx.revocations.isRevoked(sessionId);
  }

  /** `address`: the client's (request.ip), which the attempt is counted against with the account. */
  async login(email: string, password: string, address?: string): Promise<TokenPair> {
    return (await this.loginUser(email, password, address)).pair;
  }

  /** Logs in (as login) and also returns the account, for answers that show it. */
  async loginUser(email: string, password: string, address?: string): Promise<{ pair: TokenPair; user: UserRow }> {
    const throttle = await this.throttleLogin(email, address);
    const user = await usersRepository.findByEmail(this.ctx.db, email);
    const ok = user && user.is_active ? await this.ctx.hasher.verify(user.password_hash, password) : await this.ctx.hasher.verifyNothing(password);
    if (!ok || !user) throw new AppError(400, 'invalid_credentials', BAD_CREDENTIALS);
    await throttle.succeeded();
    const { pair, sessionId } = await this.openSession(user.id);
    // A password change or account deletion that landed while the password was being checked
    // revoked the sessions that existed then; this one was not among them.
    const current = await usersRepository.findActive(this.ctx.db, user.id);
    if (!current || current.password_hash !== user.password_hash) {
      await this.revoke(user.id, { ids: [sessionId], reason: 'credentials_changed' });
      throw new AppError(400, 'invalid_credentials', BAD_CREDENTIALS);
    }
    return { pair, user: current };
  }

  /**
   * Counts one log-in attempt, before the (slow) password check, so parallel guesses cannot all
   * pass; 429 with Retry-After when over a limit. Two counts, so that guessing is slowed but no
   * stranger can lock an account (the same for unknown emails, so nothing tells them apart):
   *
   * - per account and client address (an IPv6 /64 counts as one address): RATE_LIMIT_LOGIN_FAILURES
   *   attempts per RATE_LIMIT_LOGIN_FAILURE_WINDOW, cleared by a success from that address. A
   *   stranger guessing from their address locks out that address only, not the owner on theirs;
   * - per account from addresses it has not logged in from (within REFRESH_TOKEN_TTL), all
   *   together: RATE_LIMIT_LOGIN_ACCOUNT_CEILING per window. A guess spread over many addresses
   *   hits this wall, while the owner, on an address they logged in from before, is let through.
   *
   * Without an address (a caller that has none) all attempts share one address: per account only.
   */
  private async throttleLogin(email: string, address: string | undefined): Promise<{ succeeded(): Promise<void> }> {
    const { limiter, config, tokens } = this.ctx;
    if (address === '') address = undefined;
    const { loginFailuresPerAccount, loginAccountCeiling, loginFailureWindowSec } = config.rateLimits;
    const account = emailKey(email);
    // The address goes first and never holds '|', so no email can name another pair's key.
    const bucket = address ? addressBucket(address) : '';
    const pairKey = `login-addr:${bucket}|${account}`;
    const knownKey = `login-known:${bucket}|${account}`;
    await enforceLimit(limiter, pairKey, loginFailuresPerAccount, loginFailureWindowSec);
    const known = address !== undefined && loginAccountCeiling > 0 && (await limiter.remembers(knownKey));
    if (!known) await enforceLimit(limiter, `login:${account}`, loginAccountCeiling, loginFailureWindowSec);
    return {
      async succeeded() {
        if (loginFailuresPerAccount > 0) await limiter.reset(pairKey);
        if (address !== undefined && loginAccountCeiling > 0) await limiter.remember(knownKey, tokens.refreshTtlSec);
      },
    };
  }

  /** Counts one password attempt against an account; 429 beyond RATE_LIMIT_LOGIN_FAILURES per window. */
  private countAttempt(key: string): Promise<void> {
    const { loginFailuresPerAccount, loginFailureWindowSec } = this.ctx.config.rateLimits;
    return enforceLimit(this.ctx.limiter, key, loginFailuresPerAccount, loginFailureWindowSec);
  }

  /** Opens a server-side session and returns its first token pair. */
  async startSession(userId: number): Promise<TokenPair> {
    return (await this.openSession(userId)).pair;
  }

  private async openSession(userId: number): Promise<{ pair: TokenPair; sessionId: number }> {
    const now = new Date();
    const expiresAt = new Date(now.getTime() + this.ctx.tokens.refreshTtlSec * 1000).toISOString();
    // The row is written before its token exists: until the hash is set, no token matches it.
    const sessionId = await sessionsRepository.create(this.ctx.db, { userId, refreshHash: '-', now: now.toISOString(), expiresAt });
    const pair = await this.pair(userId, sessionId, 0);
    await sessionsRepository.setRefresh(this.ctx.db, sessionId, sha256(pair.refresh));
    return { pair, sessionId };
  }

  /** Rotates a refresh token. Presenting an already-rotated one revokes the whole session. */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const r = await this.rotate(refreshToken, false);
    return { access: r.access, refresh: r.refresh! };
  }

  /**
   * Rotates the refresh token of a browser session (the cookie), as refresh() does, except that
   * the session's immediately previous token, presented within REFRESH_REUSE_GRACE_MS of its
   * rotation, gets a new access token and `refresh: null` instead of revoking the session.
   */
  refreshBrowser(refreshToken: string): Promise<BrowserRefresh> {
    return this.rotate(refreshToken, true);
  }

  private async rotate(refreshToken: string, allowRecentPrevious: boolean): Promise<BrowserRefresh> {
    const claims = await this.ctx.tokens.verifyRefresh(refreshToken);
    if (!claims) throw unauthorized('Token is invalid or expired.');
    const { userId, sessionId, generation } = claims;
    await enforceLimit(this.ctx.limiter, `refresh:${userId}`, this.ctx.config.rateLimits.refreshPerAccountPerMin, 60);
    const now = new Date(this.clock());
    const next = await this.pair(userId, sessionId, generation + 1);
    const rotated = await sessionsRepository.rotate(this.ctx.db, {
      id: sessionId,
      gen: generation,
      oldHash: sha256(refreshToken),
      newHash: sha256(next.refresh),
      now: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.ctx.tokens.refreshTtlSec * 1000).toISOString(),
    });
    if (rotated) return { ...next, userId, sessionId };
    const session = await sessionsRepository.findById(this.ctx.db, sessionId);
    if (session && session.revoked_at === null && session.user_id === userId) {
      // Only one token of each generation was ever handed out (a losing concurrent rotation's
      // token is dropped), so a genuine, signed token of generation current - 1 is that one.
      if (allowRecentPrevious && this.justRotatedFrom(session, generation, now) && (await usersRepository.findActive(this.ctx.db, userId))) {
        return { access: next.access, refresh: null, userId, sessionId };
      }
      // A genuine (signed) token of this session that is no longer current: someone replayed it.
      this.ctx.log.warn({ sessionId, userId }, 'refresh token re-used; session revoked');
      await this.revoke(userId, { ids: [sessionId], reason: 'refresh_reuse' });
    }
    throw unauthorized('Token is invalid or expired.');
  }

  /** Was `generation` the session's previous one, replaced at most REFRESH_REUSE_GRACE_MS ago? (last_used_at is the rotation time.) */
  private justRotatedFrom(session: SessionRow, generation: number, now: Date): boolean {
    return (
      Number(session.refresh_gen) === generation + 1 &&
      session.expires_at > now.toISOString() &&
      now.getTime() - Date.parse(session.last_used_at) <= REFRESH_REUSE_GRACE_MS
    );
  }

  /** Ends the session a refresh token belongs to (any of its generations); nothing for an invalid token. */
  async logoutRefreshToken(refreshToken: string): Promise<void> {
    const claims = await this.ctx.tokens.verifyRefresh(refreshToken);
    if (claims) await this.revoke(claims.userId, { ids: [claims.sessionId], reason: 'logout' });
  }

  logout(p: Principal): Promise<void> {
    return this.revoke(p.userId, { ids: [p.sessionId], reason: 'logout' });
  }

  async changePassword(p: Principal, oldPassword: string, newPassword: string): Promise<void> {
    const user = await callerAccount(this.ctx.db, p.userId);
    await this.countAttempt(`password:${user.id}`);
    if (!(await this.ctx.hasher.verify(user.password_hash, oldPassword))) {
      throw fieldErrors({ old_password: ['Your old password was entered incorrectly.'] });
    }
    const problems = passwordProblems(newPassword, user);
    if (problems.length) throw fieldErrors({ new_password: problems });
    await usersRepository.update(this.ctx.db, p.userId, { password_hash: await this.ctx.hasher.hash(newPassword) });
    await this.revoke(p.userId, { keep: p.sessionId, reason: 'password_changed' });
  }

  /** Revokes sessions in the database, then everywhere in memory (this instance at once, others via the bus). */
  async revoke(userId: number, which: { ids?: number[]; keep?: number; reason: string }): Promise<void> {
    const ids = await sessionsRepository.revoke(this.ctx.db, { userId, ...which, now: nowIso() });
    await this.ctx.revocations.publish(ids);
  }

  private async pair(userId: number, sessionId: number, generation: number): Promise<TokenPair> {
    const [access, refresh] = await Promise.all([
      this.ctx.tokens.access({ userId, sessionId }),
      this.ctx.tokens.refresh({ userId, sessionId, generation }),
    ]);
    return { access, refresh };
  }
}
