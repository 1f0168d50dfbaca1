// The device-aware key directory (E2EE, issue 12): request and response shapes.
import { Type } from 'typebox';
import { Id, Nullable } from '../../http/schemas.js';
import { MAX_PREKEYS_PER_UPLOAD } from './keys.schemas.js';

export const MAX_CLAIMS_PER_REQUEST = 200;
export const DEVICE_ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';

export const DeviceId = Type.String({ minLength: 1, maxLength: 64, pattern: DEVICE_ID_PATTERN, description: 'Chosen by the client (one per browser): 1–64 of A-Z a-z 0-9 _ -' });

/** base64 (standard or URL-safe) of exactly 32 bytes. */
const Key32 = (what: string) => Type.String({ minLength: 1, maxLength: 100, description: `${what}: base64 / base64url of its 32 bytes` });

const KeyId = Type.Integer({ minimum: 0, maximum: 2_147_483_647, description: 'Chosen by the client' });

export const DeviceSignedPrekey = Type.Object({
  key_id: KeyId,
  public_key: Key32('X25519 public key'),
  signature: Type.String({ minLength: 1, maxLength: 200, description: "base64 of the 64-byte Ed25519 signature by the device's signing_key; clients verify it, the server only stores it" }),
});

export const DeviceOneTimePrekey = Type.Object({ key_id: KeyId, public_key: Key32('X25519 public key') });

const OneTimePrekeys = Type.Array(DeviceOneTimePrekey, { maxItems: MAX_PREKEYS_PER_UPLOAD, description: `At most ${MAX_PREKEYS_PER_UPLOAD} per request; PREKEY_MAX_UNCLAIMED unclaimed per device` });

export const DisplayName = Type.String({ maxLength: 64, description: 'Shown to anyone who lists your devices (e.g. "Firefox on the laptop"); control characters are removed' });

export const RegisterDeviceBody = Type.Object({
  device_id: DeviceId,
  identity_key: Key32('X25519 identity public key'),
  signing_key: Key32('Ed25519 signing public key'),
  signed_prekey: DeviceSignedPrekey,
  one_time_prekeys: Type.Optional(OneTimePrekeys),
  display_name: Type.Optional(DisplayName),
});

export const Device = Type.Object({
  user: Type.Integer(),
  device_id: Type.String(),
  identity_key: Type.String(),
  signing_key: Type.String(),
  signed_prekey: DeviceSignedPrekey,
  display_name: Type.String({ description: '"" when none was given' }),
  created_at: Type.String(),
});

export const DeviceListQuery = Type.Object({ user: Type.Optional(Id) });
export const DeviceParams = Type.Object({ device_id: DeviceId });

export const DevicePrekeyUpload = Type.Object({
  signed_prekey: Type.Optional(DeviceSignedPrekey),
  one_time_prekeys: Type.Optional(OneTimePrekeys),
});

export const DevicePrekeyCount = Type.Object({ one_time_prekeys: Type.Integer({ description: "The device's unclaimed one-time prekeys: upload more when few are left" }) });

export const DeviceRef = Type.Object({ user: Id, device_id: DeviceId });

export const ClaimBody = Type.Object({
  devices: Type.Array(DeviceRef, { minItems: 1, maxItems: MAX_CLAIMS_PER_REQUEST, description: `1 to ${MAX_CLAIMS_PER_REQUEST} devices (a device named twice is claimed once)` }),
});

export const DeviceBundle = Type.Object({
  user: Type.Integer(),
  device_id: Type.String(),
  identity_key: Type.String(),
  signing_key: Type.String(),
  signed_prekey: DeviceSignedPrekey,
  one_time_prekey: Nullable(DeviceOneTimePrekey),
});

export const ClaimResult = Type.Object({
  bundles: Type.Array(DeviceBundle, { description: 'One per requested device that exists (unknown devices, and those of deleted or deactivated accounts, are left out), in the order asked' }),
});
