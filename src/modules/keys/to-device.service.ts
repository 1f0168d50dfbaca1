// The to-device channel (E2EE, issue 12): opaque envelopes (room keys wrapped for one device by
// a pairwise channel) queued per recipient device until it acknowledges them, and sent at once to
// the sockets that device has open, on any instance (the bus, after commit). The server never
// reads an envelope, and never logs one.
import type { Static } from 'typebox';
import { enforceLimit } from '../../lib/rate-limit.js';
import type { AppContext } from '../../context.js';
import { nowIso } from '../../context.js';
import type { Db, E2eeDeviceRow, ToDeviceMessageRow } from '../../db/schema.js';
import { fieldError, notFound } from '../../errors.js';
import { deviceChannel } from '../../realtime/channels.js';
import { membershipsRepository } from '../rooms/memberships.repository.js';
import { devicesRepository } from './devices.repository.js';
import { NO_DEVICE } from './devices.service.js';
import { toDeviceRepository as repo } from './to-device.repository.js';
import { MAX_ENVELOPE_BYTES, MAX_FETCH, type SkipReason, type ToDeviceMessage, type ToDeviceSendBody, type ToDeviceSendResult } from './to-device.schemas.js';

type Send = Static<typeof ToDeviceSendBody>;
type Result = Static<typeof ToDeviceSendResult>;
type MessageView = Static<typeof ToDeviceMessage>;

const view = (r: ToDeviceMessageRow): MessageView => ({ id: r.id, sender: r.sender_id, sender_device: r.sender_device, envelope: r.envelope, created_at: r.created_at });

export class ToDeviceService {
  constructor(private readonly ctx: AppContext) {}

  /**
   * Queues each envelope for its device. The sender device must be one of the caller's; a
   * recipient must be the caller or share an active room with them, and the device must exist,
   * with fewer than TO_DEVICE_QUEUE_MAX envelopes waiting, and fewer than
   * TO_DEVICE_QUEUE_MAX_PER_SENDER of them from the caller: otherwise that envelope is skipped
   * (with its reason), the others are queued. Sockets of the recipient devices receive
   * `{"type":"to_device","to_device":{…}}` once the envelopes have committed.
   */
  async send(userId: number, input: Send): Promise<Result> {
    await enforceLimit(this.ctx.limiter, `to-device:${userId}`, this.ctx.config.toDevicePerUserPerMin, 60);
    const big = input.messages.findIndex((m) => Buffer.byteLength(m.envelope, 'utf8') > MAX_ENVELOPE_BYTES);
    if (big >= 0) throw fieldError('messages', `Envelope ${big} is larger than ${MAX_ENVELOPE_BYTES} bytes (UTF-8).`);
    const db = this.ctx.db;
    if (!(await devicesRepository.find(db, userId, input.sender_device))) throw fieldError('sender_device', 'Not one of your devices: register it first.');
    const others = [...new Set(input.messages.map((m) => m.user))].filter((u) => u !== userId);
    const allowed = new Set([userId, ...(await membershipsRepository.roomMates(db, userId, others))]);
    const devices = new Map((await devicesRepository.ofActiveUsers(db, [...allowed])).map((d) => [`${d.user_id}:${d.device_id}`, d]));
    const outcome: Array<SkipReason | E2eeDeviceRow> = input.messages.map((m) => {
      if (!allowed.has(m.user)) return 'no_shared_room';
      return devices.get(`${m.user}:${m.device_id}`) ?? 'unknown_device';
    });
    const targets = new Map(outcome.filter((o): o is E2eeDeviceRow => typeof o !== 'string').map((d) => [d.id, d]));
    const rows = targets.size === 0 ? [] : await this.enqueue(userId, input, outcome, [...targets.keys()]);
    // Live delivery after commit; an envelope the bus loses is still queued for the device to fetch.
    for (const row of rows) {
      const device = targets.get(row.device_pk)!;
      const frame = JSON.stringify({ type: 'to_device', to_device: view(row) });
      this.ctx.bus.publish(deviceChannel(device.user_id, device.device_id), frame).catch((err: Error) => this.ctx.log.warn({ err: err.message }, 'publishing a to-device envelope failed (it stays queued)'));
    }
    const skipped = input.messages.flatMap((m, i) => (typeof outcome[i] === 'string' ? [{ user: m.user, device_id: m.device_id, reason: outcome[i] as SkipReason }] : []));
    return { queued: rows.length, skipped };
  }

  /** Inserts the envelopes whose devices still exist and have room in their queues (marking the others in `outcome`). */
  private enqueue(userId: number, input: Send, outcome: Array<SkipReason | E2eeDeviceRow>, targets: number[]): Promise<ToDeviceMessageRow[]> {
    const { toDeviceQueueMax: max, toDeviceQueueMaxPerSender: maxFromSender } = this.ctx.config;
    return this.ctx.db.transaction().execute(async (trx) => {
      const existing = await repo.lockDevices(trx, targets);
      const pending = await repo.pendingCounts(trx, [...existing], userId);
      const now = nowIso();
      const rows = [];
      for (const [i, o] of outcome.entries()) {
        if (typeof o === 'string') continue;
        if (!existing.has(o.id)) {
          outcome[i] = 'unknown_device';
          continue;
        }
        const n = pending.get(o.id) ?? { all: 0, sender: 0 };
        if (n.all >= max || n.sender >= maxFromSender) {
          outcome[i] = n.all >= max ? 'queue_full' : 'sender_queue_full';
          continue;
        }
        pending.set(o.id, { all: n.all + 1, sender: n.sender + 1 });
        rows.push({ device_pk: o.id, sender_id: userId, sender_device: input.sender_device, envelope: input.messages[i].envelope, created_at: now });
      }
      return repo.insert(trx, rows);
    });
  }

  /** The envelopes waiting for one of the caller's devices, oldest first (404 for a device not theirs). */
  async list(userId: number, deviceId: string, after = 0, limit = MAX_FETCH): Promise<MessageView[]> {
    const device = await own(this.ctx.db, userId, deviceId);
    return (await repo.list(this.ctx.db, device.id, after, limit)).map(view);
  }

  /** Deletes one of the caller's devices' envelopes with ids up to `upTo`. */
  async ack(userId: number, deviceId: string, upTo: number): Promise<void> {
    const device = await own(this.ctx.db, userId, deviceId);
    await repo.deleteUpTo(this.ctx.db, device.id, upTo);
  }
}

async function own(db: Db, userId: number, deviceId: string): Promise<E2eeDeviceRow> {
  const device = await devicesRepository.find(db, userId, deviceId);
  if (!device) throw notFound(NO_DEVICE);
  return device;
}
