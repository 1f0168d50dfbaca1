// Bus channel names: a room's typing and presence (never stored; stored events come from the log),
// and one E2EE device's to-device envelopes (stored in its queue; the bus only delivers them live)
// and the signal that it was removed.
export const roomChannel = (chatRoomId: number) => `room:${chatRoomId}`;
export const deviceChannel = (userId: number, deviceId: string) => `device:${userId}:${deviceId}`;

/**
 * Published on a device's channel once its removal has committed: every instance closes its sockets
 * that speak for the device (CLOSE.deviceGone). Never sent to a socket.
 */
export const DEVICE_REMOVED = '{"type":"device_removed_signal"}';
