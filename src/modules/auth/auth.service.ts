import { enforceLimit } from '../../lib/rate-limit.js';
import type { AppContext } from '../../context.js';
import { nowIso } from '../../context.js';
import { AppError, fieldErrors, unauthorized } from '../../errors.js';
import { passwordProblems } from '../../lib/passwords.js';
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

const BAD_CREDENTIALS = 'No active account found with the given credentials.';

export class AuthService {
  constructor(private readonly ctx: AppContext) {}

  /** Who a bearer token belongs to, or null. No database read: the signature and the revocation list answer. */
  async authenticate(accessToken: string): Promise<Principal | null> {
    const claims = await this.ctx.tokens.verifyAccess(accessToken);
    if (!claims || this.ctx.revocations.isRevoked(claims.sessionId)) return null;
    return claims;
  }

  isRevoked(sessionId: number): boolean {
    return this.ctx.revocations.isRevoked(sessionId);
  }

  async login(email: string, password: string): Promise<TokenPair> {
    const { limiter, config } = this.ctx;
    // Every attempt is counted before the (slow) check, so parallel guesses cannot all pass;
    // a success clears the count.
    const accountKey = `login:${emailKey(email)}`;
    await this.countAttempt(accountKey);
    const user = await usersRepository.findByEmail(this.ctx.db, email);
    const ok = user && user.is_active ? await this.ctx.hasher.verify(user.password_hash, password) : await this.ctx.hasher.verifyNothing(password);
    if (!ok || !user) throw new AppError(400, 'invalid_credentials', BAD_CREDENTIALS);
    if (config.rateLimits.loginFailuresPerAccount > 0) await limiter.reset(accountKey);
    const { pair, sessionId } = await this.openSession(user.id);
    // A password change or account deletion that landed while the password was being checked
    // revoked the sessions that existed then; this one was not among them.
    const current = await usersRepository.findActive(this.ctx.db, user.id);
    if (!current || current.password_hash !== user.password_hash) {
      await this.revoke(user.id, { ids: [sessionId], reason: 'credentials_changed' });
      throw new AppError(400, 'invalid_credentials', BAD_CREDENTIALS);
    }
    return pair;
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
    const claims = await this.ctx.tokens.verifyRefresh(refreshToken);
    if (!claims) throw unauthorized('Token is invalid or expired.');
    const { userId, sessionId, generation } = claims;
    await enforceLimit(this.ctx.limiter, `refresh:${userId}`, this.ctx.config.rateLimits.refreshPerAccountPerMin, 60);
    const now = new Date();
    const next = await this.pair(userId, sessionId, generation + 1);
    const rotated = await sessionsRepository.rotate(this.ctx.db, {
      id: sessionId,
      gen: generation,
      oldHash: sha256(refreshToken),
      newHash: sha256(next.refresh),
      now: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.ctx.tokens.refreshTtlSec * 1000).toISOString(),
    });
    if (rotated) return next;
    const session = await sessionsRepository.findById(this.ctx.db, sessionId);
    if (session && session.revoked_at === null && session.user_id === userId) {
      // A genuine (signed) token of this session that is no longer current: someone replayed it.
      this.ctx.log.warn({ sessionId, userId }, 'refresh token re-used; session revoked');
      await this.revoke(userId, { ids: [sessionId], reason: 'refresh_reuse' });
    }
    throw unauthorized('Token is invalid or expired.');
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
