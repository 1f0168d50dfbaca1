// The JavaScript SDK of the chat server (also what the web client is built on).
export { Admin } from './admin.js';
export { ChatClient, type ChatClientOptions } from './client.js';
export { fileTypeOf, formatBytes } from './files.js';
export { ENCRYPTED_PREFIX, Encryption, decryptReason, safeMime, type DeviceNotice, type EncryptionStatus, type IdentityWarning, type KeyStoreFactory } from './encryption.js';
export type { DeviceSafety, OwnDevice } from './e2ee-client.js';
export { ApiError, messageOf } from './errors.js';
export { Api, type TokenSource } from './http.js';
export { Outbox, memoryStorage, type OutboxItem, type StorageLike } from './outbox.js';
export { Session, jwtClaims, type SessionStatus } from './session.js';
export { EventSocket, type SocketState, type SocketFactory } from './socket.js';
export { ChatStore, activityOf, displayName, type Removal } from './store.js';
export { Team, inviteLink } from './team.js';
export { Timeline } from './timeline.js';
export { highlightPieces, mentionAt, mentionPieces, unescapeHtml, type Piece } from './text.js';
export * from './types.js';
