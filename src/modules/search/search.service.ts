import type { AppContext } from '../../context.js';
import { fieldError, notFound } from '../../errors.js';
import { activeMemberOf } from '../messages/messages.access.js';
import { messagesRepository } from '../messages/messages.repository.js';
import { messageView, type MessageRecord, type MessageView } from '../messages/messages.view.js';
import { ROOM_NOT_FOUND } from '../rooms/rooms.access.js';
import { newMarkers, snippet } from './search.highlight.js';
import { parseQuery } from './search.query.js';
import { searchRepository } from './search.repository.js';

export const SEARCH_PAGE_SIZE = 20;
export const ENCRYPTED_NOT_SEARCHABLE = 'This conversation is end-to-end encrypted: its messages are not searchable.';

export interface SearchInput {
  q: string;
  chat_room?: number;
  sender?: number;
  page?: number;
}

export interface SearchResult {
  message: MessageView;
  highlight: string;
}

export class SearchService {
  constructor(private readonly ctx: AppContext) {}

  /** One page of `userId`'s matches, best first (see searchRepository.find for the scope). */
  async search(userId: number, input: SearchInput): Promise<{ count: number; results: SearchResult[] }> {
    const db = this.ctx.db;
    const parts = parseQuery(input.q);
    if (input.chat_room !== undefined && !(await searchRepository.canSearchRoom(db, userId, input.chat_room))) {
      // Its members are told why an encrypted room is not searched; for anyone else a room they may
      // not search does not exist, as everywhere else.
      const { room } = await activeMemberOf(db, userId, input.chat_room, ROOM_NOT_FOUND);
      if (room.is_encrypted) throw fieldError('chat_room', ENCRYPTED_NOT_SEARCHABLE);
      throw notFound(ROOM_NOT_FOUND);
    }
    const page = input.page ?? 1;
    const markers = newMarkers();
    const hits = await searchRepository.find(db, {
      userId,
      parts,
      chatRoom: input.chat_room,
      sender: input.sender,
      limit: SEARCH_PAGE_SIZE,
      offset: (page - 1) * SEARCH_PAGE_SIZE,
    }, markers);
    const byId = new Map((await messagesRepository.findByIds(db, hits.ids)).map((r) => [r.id, r]));
    // In rank order; a message deleted since the search ran is left out (and one edited since
    // keeps its new text, shown without marks: snippet() checks that the marks fit the content).
    const records = hits.ids.map((id) => byId.get(id)).filter((r): r is MessageRecord => r !== undefined && r.is_deleted === 0);
    return {
      count: hits.total,
      results: records.map((r) => ({ message: messageView(r), highlight: snippet(r.content, hits.marked.get(r.id) ?? null, markers) })),
    };
  }
}
