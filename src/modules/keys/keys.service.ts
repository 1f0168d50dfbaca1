import { enforceLimit } from '../../lib/rate-limit.js';
import type { Static } from 'typebox';
import type { AppContext } from '../../context.js';
import { nowIso } from '../../context.js';
import { isUniqueViolation } from '../../db/dialect.js';
import type { E2eeKeyRow, PrekeyIdentityRow } from '../../db/schema.js';
import { badRequest, fieldError, fieldErrors, forbidden, notFound, type FieldErrors } from '../../errors.js';
import { usersRepository } from '../users/users.repository.js';
import { isPrekeyPublicKey, isSignature, labelProblem, privateKeyKind, publicKeyFormat } from './key-material.js';
import { keysRepository as repo } from './keys.repository.js';
import type { Bundle, E2eeKey, PrekeyStatus, PrekeyUpload } from './keys.schemas.js';

export const MAX_PUBLIC_KEYS_PER_USER = 100;

type KeyView = Static<typeof E2eeKey>;
type Upload = Static<typeof PrekeyUpload>;

const NO_USER = 'No such user.';
const NO_KEY = 'No such key.';
const PRIVATE_REFUSED = (kind: string) => `This is ${kind}: the server stores public keys only. Never send a private key.`;

export class KeysService {
  constructor(private readonly ctx: AppContext) {}

  /** Stores a public key (201), or returns the same key already stored for you (created: false). */
  async publish(userId: number, input: { public_key: string; private_key?: string | null }): Promise<{ key: KeyView; created: boolean }> {
    const errors: FieldErrors = {};
    const kind = privateKeyKind(input.public_key);
    const format = kind ? null : publicKeyFormat(input.public_key);
    if (kind) errors.public_key = [PRIVATE_REFUSED(kind)];
    else if (format && 'error' in format) errors.public_key = [format.error];
    const label = input.private_key?.trim() || null;
    const labelIssue = label === null ? null : labelProblem(label);
    if (labelIssue) errors.private_key = [labelIssue];
    if (Object.keys(errors).length || !format || 'error' in format) throw fieldErrors(errors);
    const publicKey = input.public_key.trim();
    const same = await repo.findSameKey(this.ctx.db, userId, publicKey);
    if (same) return { key: this.view(same, userId), created: false };
    if ((await repo.countKeys(this.ctx.db, userId)) >= MAX_PUBLIC_KEYS_PER_USER) {
      throw fieldError('public_key', `You have ${MAX_PUBLIC_KEYS_PER_USER} public keys already: delete one first.`);
    }
    const row = await repo.insertKey(this.ctx.db, { user_id: userId, public_key: publicKey, key_format: format.format, label, created_at: nowIso() });
    return { key: this.view(row, userId), created: true };
  }

  /** A user's public keys, oldest first (yours without `user`). */
  async list(callerId: number, userId: number | undefined): Promise<KeyView[]> {
    const owner = userId ?? callerId;
    if (!(await usersRepository.findActive(this.ctx.db, owner))) throw notFound(NO_USER);
    return (await repo.listKeys(this.ctx.db, owner)).map((k) => this.view(k, callerId));
  }

  async get(callerId: number, id: number): Promise<KeyView> {
    const row = await repo.findKey(this.ctx.db, id);
    if (!row) throw notFound(NO_KEY);
    return this.view(row, callerId);
  }

  /** The key's owner only (403 for anyone else: the key is public, so no secret is kept by a 404). */
  async remove(callerId: number, id: number): Promise<void> {
    const row = await repo.findKey(this.ctx.db, id);
    if (!row) throw notFound(NO_KEY);
    if (row.user_id !== callerId) throw forbidden('Only its owner can delete this key.');
    await repo.deleteKey(this.ctx.db, id);
  }

  /**
   * Publishes X3DH prekeys. The first upload needs `identity_key` and `signed_prekey`. A new
   * identity key needs a new signed prekey with it and discards the unclaimed one-time prekeys
   * (they belonged to the old identity). One-time prekeys are added, at most 100 a request and
   * PREKEY_MAX_UNCLAIMED unclaimed in all; a key_id already unclaimed → 400.
   */
  async uploadPrekeys(userId: number, input: Upload): Promise<Static<typeof PrekeyStatus>> {
    this.checkPrekeyForms(input);
    const batch = input.one_time_prekeys ?? [];
    const max = this.ctx.config.prekeyMaxUnclaimed;
    try {
      await this.ctx.db.transaction().execute(async (trx) => {
        const now = nowIso();
        const current = await repo.lockIdentity(trx, userId);
        const identityChanges = input.identity_key !== undefined && input.identity_key !== current?.identity_key;
        if ((!current || identityChanges) && !input.signed_prekey) {
          throw fieldError('signed_prekey', current ? 'A new identity key needs a new signed prekey with it.' : 'The first upload needs identity_key and signed_prekey.');
        }
        if (!current && input.identity_key === undefined) throw fieldError('identity_key', 'The first upload needs identity_key and signed_prekey.');
        const spk = input.signed_prekey;
        if (!current || identityChanges) {
          await repo.upsertIdentity(trx, {
            user_id: userId,
            identity_key: input.identity_key!,
            signed_prekey_id: spk!.key_id,
            signed_prekey: spk!.public_key,
            signed_prekey_signature: spk!.signature,
            created_at: now,
            updated_at: now,
          });
          if (current) await repo.deletePrekeys(trx, userId);
        } else if (spk) {
          await repo.updateIdentity(trx, userId, { signed_prekey_id: spk.key_id, signed_prekey: spk.public_key, signed_prekey_signature: spk.signature, updated_at: now });
        }
        if (batch.length === 0) return;
        const taken = await repo.takenKeyIds(trx, userId, batch.map((k) => k.key_id));
        if (taken.length) throw fieldError('one_time_prekeys', `key_id ${taken.slice(0, 10).join(', ')} already in use by unclaimed prekeys.`);
        const left = await repo.countPrekeys(trx, userId);
        if (left + batch.length > max) {
          throw fieldError('one_time_prekeys', `At most ${max} unclaimed one-time prekeys: you have ${left}, so at most ${Math.max(0, max - left)} more.`);
        }
        await repo.insertPrekeys(trx, userId, batch, now);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw fieldError('one_time_prekeys', 'A key_id is already in use by an unclaimed prekey.');
      throw err;
    }
    return this.status(userId);
  }

  async status(userId: number): Promise<Static<typeof PrekeyStatus>> {
    const [identity, count] = await Promise.all([repo.findIdentity(this.ctx.db, userId), repo.countPrekeys(this.ctx.db, userId)]);
    return { identity_key: identity?.identity_key ?? null, signed_prekey: identity ? signedPrekey(identity) : null, one_time_prekeys: count };
  }

  countPrekeys(userId: number): Promise<number> {
    return repo.countPrekeys(this.ctx.db, userId);
  }

  /**
   * Another user's bundle: identity key, signed prekey, and one one-time prekey, which is
   * deleted as it is handed out (never given twice, even to concurrent claims); null once
   * none are left. Claims per claimer are rate limited (RATE_LIMIT_PREKEY_CLAIMS_PER_USER, 429);
   * one-time prekeys per target too, by all claimers together (RATE_LIMIT_PREKEY_CLAIMS_PER_TARGET):
   * beyond that the bundle comes without one (as when none are left), so accounts working together
   * cannot drain a user, and nobody is kept from starting a session with them.
   */
  async claimBundle(claimerId: number, userId: number): Promise<Static<typeof Bundle>> {
    if (claimerId === userId) throw badRequest('Claim other users\' prekeys, not your own.', 'own_prekeys');
    await enforceLimit(this.ctx.limiter, `prekey-claims:${claimerId}`, this.ctx.config.prekeyClaimsPerUserPerMin, 60);
    if (!(await usersRepository.findActive(this.ctx.db, userId))) throw notFound(NO_USER);
    const withOneTime = await this.oneTimePrekeyAllowed(userId);
    return this.ctx.db.transaction().execute(async (trx) => {
      const identity = await repo.shareIdentity(trx, userId);
      if (!identity) throw notFound('This user has not published prekeys.');
      const otp = withOneTime ? await repo.claimPrekey(trx, userId) : undefined;
      return { user: userId, identity_key: identity.identity_key, signed_prekey: signedPrekey(identity), one_time_prekey: otp ?? null };
    });
  }

  /** Counts a claim against its target: may it take one of the target's one-time prekeys? */
  private async oneTimePrekeyAllowed(userId: number): Promise<boolean> {
    const limit = this.ctx.config.prekeyClaimsPerTargetPerMin;
    if (limit <= 0) return true;
    return (await this.ctx.limiter.consume(`prekey-target:${userId}`, limit, 60)).ok;
  }

  private checkPrekeyForms(input: Upload): void {
    const errors: FieldErrors = {};
    const bad = 'Must be base64 of a 32, 33, 56, 57 or 65-byte public key.';
    if (input.identity_key !== undefined && !isPrekeyPublicKey(input.identity_key)) errors.identity_key = [bad];
    if (input.signed_prekey) {
      if (!isPrekeyPublicKey(input.signed_prekey.public_key)) errors.signed_prekey = [`public_key: ${bad}`];
      else if (!isSignature(input.signed_prekey.signature)) errors.signed_prekey = ['signature: must be base64 of 64 to 132 bytes.'];
    }
    const batch = input.one_time_prekeys ?? [];
    const badKey = batch.find((k) => !isPrekeyPublicKey(k.public_key));
    if (badKey) errors.one_time_prekeys = [`key_id ${badKey.key_id}: ${bad}`];
    else if (new Set(batch.map((k) => k.key_id)).size !== batch.length) errors.one_time_prekeys = ['Each key_id may appear once.'];
    if (Object.keys(errors).length) throw fieldErrors(errors);
  }

  private view(k: E2eeKeyRow, callerId: number): KeyView {
    return {
      id: k.id,
      user: k.user_id,
      public_key: k.public_key,
      key_format: k.key_format as KeyView['key_format'],
      private_key: k.user_id === callerId ? k.label : null,
      created_at: k.created_at,
    };
  }
}

const signedPrekey = (i: PrekeyIdentityRow) => ({ key_id: i.signed_prekey_id, public_key: i.signed_prekey, signature: i.signed_prekey_signature });
