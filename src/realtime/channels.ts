// Bus channel names: a room's typing and presence (never stored; stored events come from the log).
export const roomChannel = (chatRoomId: number) => `room:${chatRoomId}`;
