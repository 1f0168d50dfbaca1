// Bus channel names: a room's events, and a user's own membership changes (their sockets may
// not follow the room yet).
export const roomChannel = (chatRoomId: number) => `room:${chatRoomId}`;
export const userChannel = (userId: number) => `user:${userId}`;
