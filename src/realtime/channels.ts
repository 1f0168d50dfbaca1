// Bus channel names: a room's typing and presence (never stored; stored events come from the log),
// and one E2EE device's to-device envelopes (stored in its queue; the bus only delivers them live).
export const roomChannel = (chatRoomId: number) => `room:${chatRoomId}`;
export const deviceChannel = (userId: number, deviceId: string) => `device:${userId}:${deviceId}`;
