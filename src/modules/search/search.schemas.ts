import { Type } from 'typebox';
import { Id, Paginated } from '../../http/schemas.js';
import { Message } from '../messages/messages.schemas.js';
import { QUERY_MAX_CHARS, QUERY_MAX_WORDS } from './search.query.js';
import { SNIPPET_MAX_CHARS } from './search.highlight.js';

export const SearchQuery = Type.Object({
  q: Type.String({
    minLength: 1,
    maxLength: QUERY_MAX_CHARS,
    description: `The search text: words, and "quoted phrases". At most ${QUERY_MAX_CHARS} characters and ${QUERY_MAX_WORDS} words (400 beyond).`,
  }),
  chat_room: Type.Optional({ ...Id, description: 'Only this room (404 unless you are an active member of it; 400 if it is end-to-end encrypted)' }),
  sender: Type.Optional({ ...Id, description: "Only this user's messages" }),
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
});

export const SearchResult = Type.Object({
  message: Message,
  highlight: Type.String({
    description:
      `At most ${SNIPPET_MAX_CHARS} characters of the content around the first match ("…" where cut), HTML-escaped, with each match ` +
      'wrapped in `<mark>`…`</mark>`: the only markup in it, so a client may split on those two tags and unescape the rest.',
  }),
});

export const SearchPage = Paginated(SearchResult);
