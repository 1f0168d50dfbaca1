// The to-device channel (E2EE, issue 12): opaque envelopes of key material from one device to others.
import { Type } from 'typebox';
import { Id, Nullable } from '../../http/schemas.js';
import { DeviceId } from './devices.schemas.js';

export const MAX_ENVELOPE_BYTES = 16 * 1024;
export const MAX_MESSAGES_PER_SEND = 500;
export const MAX_FETCH = 100;

export const SKIP_REASONS = ['no_shared_room', 'unknown_device', 'queue_full', 'sender_queue_full'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export const ToDeviceSendBody = Type.Object({
  sender_device: DeviceId,
  messages: Type.Array(
    Type.Object({
      user: Id,
      device_id: DeviceId,
      envelope: Type.String({
        minLength: 1,
        maxLength: MAX_ENVELOPE_BYTES,
        description: `Opaque (e.g. base64 ciphertext for that device): stored and delivered byte for byte, never read or logged; at most ${MAX_ENVELOPE_BYTES} bytes (UTF-8)`,
      }),
    }),
    { minItems: 1, maxItems: MAX_MESSAGES_PER_SEND, description: `1 to ${MAX_MESSAGES_PER_SEND} envelopes, each for one device` },
  ),
});

export const ToDeviceSendResult = Type.Object({
  queued: Type.Integer({ description: 'Envelopes queued (and sent to the sockets of their devices)' }),
  skipped: Type.Array(
    Type.Object({
      user: Type.Integer(),
      device_id: Type.String(),
      reason: Type.Enum([...SKIP_REASONS], {
        description: 'no_shared_room: the user is not you and shares no room with you; unknown_device: no such device (or account); queue_full: TO_DEVICE_QUEUE_MAX envelopes wait for it; sender_queue_full: TO_DEVICE_QUEUE_MAX_PER_SENDER of them are yours',
      }),
    }),
    { description: 'The envelopes not queued, in the order sent' },
  ),
});

export const ToDeviceMessage = Type.Object({
  id: Type.Integer({ description: "The envelope's id in its device's queue (acknowledge up to it)" }),
  sender: Nullable(Type.Integer({ description: 'null once the sender deleted their account' })),
  sender_device: Type.String(),
  envelope: Type.String(),
  created_at: Type.String(),
});

export const ToDeviceQuery = Type.Object({
  device_id: DeviceId,
  after: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Only envelopes with a greater id (to page without acknowledging)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_FETCH, description: `At most ${MAX_FETCH} (the default)` })),
});

export const ToDeviceAckBody = Type.Object({
  device_id: DeviceId,
  up_to: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: "Deletes the device's envelopes with this id or a smaller one" }),
});
