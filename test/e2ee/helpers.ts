// Shared helpers of the E2EE protocol tests: devices from fixed seeds (for vectors), bundles
// as the server's claim route returns them, and in-memory E2ee instances.
import { type ClaimedBundle, type DeviceRecord, type StoredOneTimePrekey, signedPrekeyMessage } from '../../web/core/e2ee/device.js';
import { fromHex, toBase64 } from '../../web/core/e2ee/encoding.js';
import { E2ee, MemoryStore } from '../../web/core/e2ee/index.js';
import { ed25519KeyPair, ed25519Sign, x25519KeyPair } from '../../web/core/e2ee/primitives.js';

/** 32 bytes: `start`, start+1, … (mod 256). */
export function seed(start: number): Uint8Array<ArrayBuffer> {
  return Uint8Array.from({ length: 32 }, (_, i) => (start + i) & 0xff);
}

/** A device record from fixed seeds (deterministic: signatures included). */
export async function fixedDevice(user: string, deviceId: string, start: number, opkCount = 2): Promise<{ device: DeviceRecord; opks: StoredOneTimePrekey[] }> {
  const signing = ed25519KeyPair(seed(start));
  const identity = x25519KeyPair(seed(start + 1));
  const spk = x25519KeyPair(seed(start + 2));
  const signature = await ed25519Sign(signedPrekeyMessage(signing.publicKey, identity.publicKey, 1, spk.publicKey), signing);
  const device: DeviceRecord = {
    v: 1,
    device_id: deviceId,
    user,
    signing: { public_key: toBase64(signing.publicKey), secret_key: toBase64(signing.secretKey) },
    identity: { public_key: toBase64(identity.publicKey), secret_key: toBase64(identity.secretKey) },
    signed_prekeys: [{ key_id: 1, public_key: toBase64(spk.publicKey), secret_key: toBase64(spk.secretKey), signature: toBase64(signature), created_at: 0 }],
    next_signed_prekey_id: 2,
    next_one_time_prekey_id: opkCount + 1,
    created_at: 0,
  };
  const opks = Array.from({ length: opkCount }, (_, i) => {
    const p = x25519KeyPair(seed(start + 3 + i));
    return { key_id: i + 1, public_key: toBase64(p.publicKey), secret_key: toBase64(p.secretKey) };
  });
  return { device, opks };
}

/** The bundle the claim route would hand out for a device (with one of its one-time prekeys, or none). */
export function bundleOf(device: DeviceRecord, opk: StoredOneTimePrekey | null): ClaimedBundle {
  const spk = device.signed_prekeys[device.signed_prekeys.length - 1];
  return {
    user: Number(device.user),
    device_id: device.device_id,
    identity_key: device.identity.public_key,
    signing_key: device.signing.public_key,
    signed_prekey: { key_id: spk.key_id, public_key: spk.public_key, signature: spk.signature },
    one_time_prekey: opk ? { key_id: opk.key_id, public_key: opk.public_key } : null,
  };
}

/** A fake key directory: devices upload, others claim one bundle per device (each one-time prekey once). */
export class Directory {
  private readonly devices = new Map<string, { user: string; upload: import('../../web/core/e2ee/index.js').DeviceUpload; opks: Array<{ key_id: number; public_key: string }> }>();

  add(user: string | number, upload: import('../../web/core/e2ee/index.js').DeviceUpload): void {
    this.devices.set(upload.device_id, { user: String(user), upload, opks: [...upload.one_time_prekeys] });
  }

  refill(deviceId: string, opks: Array<{ key_id: number; public_key: string }>): void {
    this.devices.get(deviceId)!.opks.push(...opks);
  }

  remove(deviceId: string): void {
    this.devices.delete(deviceId);
  }

  /** Device refs of a user (like GET /api/e2ee_keys/devices/?user=ID). */
  list(user: string | number): Array<{ user: string; device_id: string }> {
    return [...this.devices.values()].filter((d) => d.user === String(user)).map((d) => ({ user: d.user, device_id: d.upload.device_id }));
  }

  /** One bundle per device of the users (like POST /api/e2ee_keys/devices/claim/). */
  claim(users: Array<string | number>): ClaimedBundle[] {
    return [...this.devices.values()]
      .filter((d) => users.map(String).includes(d.user))
      .map((d) => ({
        user: Number(d.user),
        device_id: d.upload.device_id,
        identity_key: d.upload.identity_key,
        signing_key: d.upload.signing_key,
        signed_prekey: d.upload.signed_prekey,
        one_time_prekey: d.opks.shift() ?? null,
      }));
  }
}

/** A new in-memory device for `user`, uploaded to the directory. */
export async function newDevice(dir: Directory, user: string | number, opks = 5): Promise<E2ee> {
  const { e2ee, upload } = await E2ee.createDevice(new MemoryStore(), user, opks);
  dir.add(user, upload);
  return e2ee;
}

/** Receives an envelope as the to-device queue of an honest server delivers it (naming its real sender). */
export function receive(device: E2ee, envelope: string) {
  let header: { sender_user?: string; sender_device?: string } = {};
  try {
    header = JSON.parse(envelope) ?? {};
  } catch {
    // not JSON: refused before the sender is looked at
  }
  return device.receiveEnvelope(envelope, { sender: header.sender_user ?? null, sender_device: String(header.sender_device ?? '') });
}

export { fromHex };
