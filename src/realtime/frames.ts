// Frames a client may send on general_updates, checked against these schemas.
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';

const RoomId = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });

export const ClientFrame = Type.Union([
  Type.Object({ type: Type.Literal('ping') }),
  Type.Object({ type: Type.Literal('typing'), chat_room: RoomId }),
  Type.Object({ type: Type.Literal('read'), chat_room: RoomId, message: RoomId }),
]);
export type ClientFrame = Static<typeof ClientFrame>;

const check = Compile(ClientFrame);

/** The frame, or an error message for the client. */
export function parseFrame(data: string): ClientFrame | string {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return 'Frames must be JSON.';
  }
  if (check.Check(value)) return value as ClientFrame;
  const type = (value as { type?: unknown } | null)?.type;
  if (type === 'ping' || type === 'typing' || type === 'read') return `Invalid "${type}" frame: chat_room${type === 'read' ? ' and message' : ''} must be positive integers.`;
  return 'Unknown frame type: expected "ping", "typing" or "read".';
}
