// The device-aware key directory (E2EE, issue 12). Each browser is a device with an X25519
// identity key and an Ed25519 signing key, which never change (a new identity is a new device),
// a signed prekey it may rotate, and one-time prekeys, each handed out once. Registering or
// removing a device tells every room its user is in (`device_added` / `device_removed`), so
// senders share their room keys with it, or rotate them.
import type { Static } from 'typebox';
import type { AppContext } from '../../context.js';
import { nowIso } from '../../context.js';
import { forUpdate, isUniqueViolation } from '../../db/dialect.js';
import type { Db, E2eeDeviceRow } from '../../db/schema.js';
import { conflict, fieldError, fieldErrors, notFound, type FieldErrors } from '../../errors.js';
import { displayText } from '../../lib/display-text.js';
import { enforceLimit } from '../../lib/rate-limit.js';
import { DEVICE_REMOVED, deviceChannel } from '../../realtime/channels.js';
import type { UnitOfWork } from '../events/unit-of-work.js';
import { membershipsRepository } from '../rooms/memberships.repository.js';
import { memberRoom } from '../rooms/rooms.access.js';
import { usersRepository } from '../users/users.repository.js';
import { decodeBase64, privateKeyKind } from './key-material.js';
import { devicesRepository as repo } from './devices.repository.js';
import type { Device, DeviceBundle, DevicePrekeyUpload, DeviceSignedPrekey, RegisterDeviceBody } from './devices.schemas.js';

type DeviceView = Static<typeof Device>;
type Bundle = Static<typeof DeviceBundle>;
type Register = Static<typeof RegisterDeviceBody>;
type PrekeyUpload = Static<typeof DevicePrekeyUpload>;
type SignedPrekey = Static<typeof DeviceSignedPrekey>;

export const NO_DEVICE = 'No such device.';
const NO_USER = 'No such user.';

export function deviceView(d: E2eeDeviceRow): DeviceView {
  return {
    user: d.user_id,
    device_id: d.device_id,
    identity_key: d.identity_key,
    signing_key: d.signing_key,
    signed_prekey: { key_id: d.signed_prekey_id, public_key: d.signed_prekey, signature: d.signed_prekey_signature },
    display_name: d.display_name,
    created_at: d.created_at,
  };
}

/** Checks and canonicalizes (standard base64) every key of a request; 400 with each field's problem. */
class KeyForms {
  readonly errors: FieldErrors = {};

  /** The key as standard base64 of its `size` bytes, or undefined (and an error for `field`). */
  bytes(field: string, value: string, size: number, what: string): string | undefined {
    const kind = privateKeyKind(value);
    const bytes = kind ? null : decodeBase64(value);
    if (kind) this.add(field, `This is ${kind}: the server stores public keys only. Never send a private key.`);
    else if (!bytes || bytes.length !== size) this.add(field, `Must be base64 of ${what} (${size} bytes).`);
    else return bytes.toString('base64');
    return undefined;
  }

  signedPrekey(field: string, spk: SignedPrekey): SignedPrekey {
    const publicKey = this.bytes(field, spk.public_key, 32, 'an X25519 public key');
    const signature = this.bytes(field, spk.signature, 64, 'an Ed25519 signature');
    return { key_id: spk.key_id, public_key: publicKey ?? '', signature: signature ?? '' };
  }

  oneTimePrekeys(field: string, keys: Array<{ key_id: number; public_key: string }>): Array<{ key_id: number; public_key: string }> {
    if (new Set(keys.map((k) => k.key_id)).size !== keys.length) this.add(field, 'Each key_id may appear once.');
    return keys.map((k) => ({ key_id: k.key_id, public_key: this.bytes(field, k.public_key, 32, `an X25519 public key (key_id ${k.key_id})`) ?? '' }));
  }

  check(): void {
    if (Object.keys(this.errors).length) throw fieldErrors(this.errors);
  }

  private add(field: string, message: string) {
    const list = (this.errors[field] ??= []);
    if (!list.includes(message) && list.length < 5) list.push(message);
  }
}

export class DevicesService {
  constructor(private readonly ctx: AppContext) {}

  /**
   * Registers a device of the caller (created: true), or answers the same device again when its
   * identity and signing keys are those already registered (nothing changes then: rotate the
   * signed prekey and add one-time prekeys through uploadPrekeys). Other keys for a device_id
   * already registered → 409: a device never changes identity. At most E2EE_MAX_DEVICES_PER_USER.
   */
  async register(userId: number, input: Register): Promise<{ device: DeviceView; created: boolean }> {
    const forms = new KeyForms();
    const identityKey = forms.bytes('identity_key', input.identity_key, 32, 'an X25519 public key');
    const signingKey = forms.bytes('signing_key', input.signing_key, 32, 'an Ed25519 public key');
    const spk = forms.signedPrekey('signed_prekey', input.signed_prekey);
    const otps = forms.oneTimePrekeys('one_time_prekeys', input.one_time_prekeys ?? []);
    forms.check();
    const keys = { identity_key: identityKey!, signing_key: signingKey! };
    const existing = await repo.find(this.ctx.db, userId, input.device_id);
    if (existing) return { device: sameDevice(existing, keys), created: false };
    const max = this.ctx.config.prekeyMaxUnclaimed;
    if (otps.length > max) throw fieldError('one_time_prekeys', `At most ${max} unclaimed one-time prekeys per device.`);
    const rooms = await membershipsRepository.activeRoomIds(this.ctx.db, userId);
    let result: { row: E2eeDeviceRow; created: boolean };
    try {
      result = await this.ctx.writer.run(rooms, async (uow) => {
        const trx = uow.trx;
        await repo.lockUser(trx, userId);
        const again = await repo.find(trx, userId, input.device_id);
        if (again) return { row: again, created: false };
        const limit = this.ctx.config.e2eeMaxDevicesPerUser;
        if ((await repo.countForUser(trx, userId)) >= limit) {
          throw fieldError('device_id', `You have ${limit} devices already (E2EE_MAX_DEVICES_PER_USER): remove one you no longer use first.`);
        }
        const now = nowIso();
        const row = await repo.insert(trx, {
          user_id: userId,
          device_id: input.device_id,
          ...keys,
          signed_prekey_id: spk.key_id,
          signed_prekey: spk.public_key,
          signed_prekey_signature: spk.signature,
          display_name: displayText(input.display_name ?? ''),
          created_at: now,
          updated_at: now,
        });
        await repo.insertPrekeys(trx, row.id, otps, now);
        await this.tellRooms(uow, 'device_added', userId, input.device_id, rooms);
        return { row, created: true };
      });
    } catch (err) {
      // Registered at the same moment by another request (only possible where the user's row is not locked).
      if (!isUniqueViolation(err)) throw err;
      const row = await repo.find(this.ctx.db, userId, input.device_id);
      if (!row) throw err;
      result = { row, created: false };
    }
    return { device: result.created ? deviceView(result.row) : sameDevice(result.row, keys), created: result.created };
  }

  /** A user's devices, oldest first (yours without `user`); 404 for an unknown, deleted or deactivated account. */
  async list(callerId: number, userId: number | undefined): Promise<DeviceView[]> {
    const owner = userId ?? callerId;
    if (!(await usersRepository.findActive(this.ctx.db, owner))) throw notFound(NO_USER);
    return (await repo.listForUser(this.ctx.db, owner)).map(deviceView);
  }

  /** The devices of every active member of a room: its active members only (404 if it is not visible, 403 for a public group not joined). */
  async listForRoom(callerId: number, roomId: number): Promise<DeviceView[]> {
    await memberRoom(this.ctx.db, callerId, roomId);
    return (await repo.listForRoom(this.ctx.db, roomId)).map(deviceView);
  }

  /**
   * Rotates the signed prekey and/or adds one-time prekeys to one of the caller's devices: at
   * most 100 a request, PREKEY_MAX_UNCLAIMED unclaimed per device; a key_id the device already
   * has unclaimed → 400. Answers how many are unclaimed.
   */
  async uploadPrekeys(userId: number, deviceId: string, input: PrekeyUpload): Promise<number> {
    const forms = new KeyForms();
    const spk = input.signed_prekey && forms.signedPrekey('signed_prekey', input.signed_prekey);
    const batch = forms.oneTimePrekeys('one_time_prekeys', input.one_time_prekeys ?? []);
    forms.check();
    const max = this.ctx.config.prekeyMaxUnclaimed;
    try {
      return await this.ctx.db.transaction().execute(async (trx) => {
        const device = await lockOwn(trx, userId, deviceId);
        const now = nowIso();
        if (spk) await repo.updateSignedPrekey(trx, device.id, spk, now);
        const left = await repo.countPrekeys(trx, device.id);
        if (batch.length === 0) return left;
        const taken = await repo.takenKeyIds(trx, device.id, batch.map((k) => k.key_id));
        if (taken.length) throw fieldError('one_time_prekeys', `key_id ${taken.slice(0, 10).join(', ')} already in use by unclaimed prekeys.`);
        if (left + batch.length > max) {
          throw fieldError('one_time_prekeys', `At most ${max} unclaimed one-time prekeys per device: this one has ${left}, so at most ${Math.max(0, max - left)} more.`);
        }
        await repo.insertPrekeys(trx, device.id, batch, now);
        return left + batch.length;
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw fieldError('one_time_prekeys', 'A key_id is already in use by an unclaimed prekey.');
      throw err;
    }
  }

  async countPrekeys(userId: number, deviceId: string): Promise<number> {
    const device = await repo.find(this.ctx.db, userId, deviceId);
    if (!device) throw notFound(NO_DEVICE);
    return repo.countPrekeys(this.ctx.db, device.id);
  }

  /**
   * One bundle per requested device that exists (of an active account), in the order asked, each
   * with one one-time prekey, deleted as it is handed out (never twice, even to concurrent claims),
   * or null when none is left. The seed route's limits apply: RATE_LIMIT_PREKEY_CLAIMS_PER_USER
   * counts each request as one claim (429 beyond), and
   * RATE_LIMIT_PREKEY_CLAIMS_PER_TARGET one-time prekeys a minute per target user, by all claimers
   * together, are handed out (beyond it, bundles come without one).
   */
  async claim(claimerId: number, refs: Array<{ user: number; device_id: string }>): Promise<Bundle[]> {
    const wanted = [...new Map(refs.map((r) => [`${r.user}:${r.device_id}`, r])).values()];
    const users = [...new Set(wanted.map((r) => r.user))];
    // One request counts one claim, however many devices it names: a first message in a room of 200
    // needs them all at once, and the per-target budget below is what keeps prekeys from draining.
    await enforceLimit(this.ctx.limiter, `prekey-claims:${claimerId}`, this.ctx.config.prekeyClaimsPerUserPerMin, 60);
    const known = new Map((await repo.ofActiveUsers(this.ctx.db, users)).map((d) => [`${d.user_id}:${d.device_id}`, d.id]));
    // The per-target budget is spent outside the transaction (it may be a Redis round trip).
    const withOneTime = new Set<number>();
    for (const r of wanted) {
      const id = known.get(`${r.user}:${r.device_id}`);
      if (id !== undefined && (await this.oneTimePrekeyAllowed(r.user))) withOneTime.add(id);
    }
    return this.ctx.db.transaction().execute(async (trx) => {
      // Shared-locked: a device is not removed, nor its signed prekey rotated, under the claim.
      const devices = new Map((await repo.ofActiveUsers(trx, users, true)).map((d) => [`${d.user_id}:${d.device_id}`, d]));
      const bundles: Bundle[] = [];
      for (const r of wanted) {
        const d = devices.get(`${r.user}:${r.device_id}`);
        if (!d) continue;
        const otp = withOneTime.has(d.id) ? await repo.claimPrekey(trx, d.id) : undefined;
        const { display_name: _name, created_at: _at, ...keys } = deviceView(d);
        bundles.push({ ...keys, one_time_prekey: otp ?? null });
      }
      return bundles;
    });
  }

  /**
   * The caller's own device only (404 otherwise). Its prekeys and queued envelopes go with it; its
   * user's rooms get `device_removed`. Once committed, the sockets opened with its id close (4410)
   * on every instance, as revoked sessions' sockets do (4401): announced over the bus, on the
   * device's channel, which those sockets follow.
   */
  async remove(userId: number, deviceId: string): Promise<void> {
    if (!(await repo.find(this.ctx.db, userId, deviceId))) throw notFound(NO_DEVICE);
    const rooms = await membershipsRepository.activeRoomIds(this.ctx.db, userId);
    await this.ctx.writer.run(rooms, async (uow) => {
      const device = await repo.find(uow.trx, userId, deviceId);
      if (!device || !(await repo.delete(uow.trx, device.id))) throw notFound(NO_DEVICE);
      await this.tellRooms(uow, 'device_removed', userId, deviceId, rooms);
    });
    try {
      await this.ctx.bus.publish(deviceChannel(userId, deviceId), DEVICE_REMOVED);
    } catch (err) {
      // Committed already: each instance looks its device sockets up when the bus is back.
      this.ctx.log.warn({ err: (err as Error).message }, 'device removal not announced: the bus is down');
    }
  }

  /**
   * The event in each of `locked` (the rooms locked for the change) that the user is still an
   * active member of. A room joined meanwhile is not told: its members learn of the new member
   * (`member_joined`) and read their devices then.
   */
  private async tellRooms(uow: UnitOfWork, type: 'device_added' | 'device_removed', userId: number, deviceId: string, locked: number[]): Promise<void> {
    if (locked.length === 0) return;
    const now = new Set(await membershipsRepository.activeRoomIds(uow.trx, userId));
    for (const room of locked) {
      if (now.has(room)) await uow.emit(type, { chatRoomId: room, userId }, { user: userId, device_id: deviceId });
    }
  }

  /** Counts one one-time prekey against its target (as KeysService does, on the same counter). */
  private async oneTimePrekeyAllowed(userId: number): Promise<boolean> {
    const limit = this.ctx.config.prekeyClaimsPerTargetPerMin;
    if (limit <= 0) return true;
    return (await this.ctx.limiter.consume(`prekey-target:${userId}`, limit, 60)).ok;
  }
}

/** The registered device again: 409 unless the identity and signing keys are the same. */
function sameDevice(existing: E2eeDeviceRow, keys: { identity_key: string; signing_key: string }): DeviceView {
  if (existing.identity_key !== keys.identity_key || existing.signing_key !== keys.signing_key) {
    throw conflict('This device_id is registered with other keys. A device never changes its identity: register the new keys under a new device_id (and remove the old device).');
  }
  return deviceView(existing);
}

/** One of the caller's devices, locked until the transaction ends (its prekey uploads take turns); 404 otherwise. */
async function lockOwn(trx: Db, userId: number, deviceId: string): Promise<E2eeDeviceRow> {
  const device = await forUpdate(trx, trx.selectFrom('e2ee_devices').selectAll().where('user_id', '=', userId).where('device_id', '=', deviceId)).executeTakeFirst();
  if (!device) throw notFound(NO_DEVICE);
  return device;
}
