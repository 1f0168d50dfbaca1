// The JavaScript SDK of the chat server (also what the web client is built on).
export { ChatClient, type ChatClientOptions } from './client.js';
export { fileTypeOf, formatBytes } from './files.js';
export { ApiError, messageOf } from './errors.js';
export { Api, type TokenSource } from './http.js';
export { Outbox, memoryStorage, type OutboxItem, type StorageLike } from './outbox.js';
export { Session, jwtClaims, type SessionStatus } from './session.js';
export { EventSocket, type SocketState, type SocketFactory } from './socket.js';
export { ChatStore, activityOf, displayName } from './store.js';
export { Timeline } from './timeline.js';
export * from './types.js';
