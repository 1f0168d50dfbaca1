import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.js';
import { errors } from '../../http/schemas.js';
import { pageLinks } from '../../http/urls.js';
import { PREFIX_MIN_CHARS, QUERY_MAX_WORDS } from './search.query.js';
import { SearchPage, SearchQuery } from './search.schemas.js';
import { SEARCH_RANKED_MAX } from './search.repository.js';
import { SEARCH_PAGE_SIZE, SearchService } from './search.service.js';

const DESCRIPTION = [
  'Full-text search over the messages of the rooms you are an active member of (never a room you left, never an encrypted room: ',
  'the rule lives in `searchableRoomIds`, src/modules/search/search.scope.ts), never deleted messages. The index is updated in the ',
  'transaction of each send, edit and delete, so results change at once.',
  '\n\n**Syntax.** Every word must match. A word matches words of the same stem (`deployed` finds "deploy") and, from ',
  `${PREFIX_MIN_CHARS} letters on, words it begins (\`deploy\` finds "deployment", \`depl\` finds both). \`"exact phrase"\` matches those `,
  'words next to each other (an unclosed quote runs to the end; a quoted single word matches by stem only, without prefix). Anything ',
  'that is not a letter or a digit separates words, so `OR`, `-`, `*`, `NEAR`, `:`, `^` and parentheses are ordinary text; `e-mail` is ',
  'the phrase "e mail". Very common English words ("the", "and", …) are not searched on their own. ',
  `A query with nothing left to search for, or over ${QUERY_MAX_WORDS} words → 400 \`{"q": ["…"]}\`.`,
  '\n\n**Results**, 20 a page, best match first (SQLite: FTS5 bm25; PostgreSQL: ts_rank over the `english` configuration), ties newest ',
  'first. `message` is the message exactly as `GET /api/messages/{id}/` returns it; `highlight` is an HTML-escaped snippet with the ',
  `matches in \`<mark>\` tags. \`count\` is the number of all matches. Only the newest ${SEARCH_RANKED_MAX} matches are ranked: for a word `,
  `found more often than that, the older matches follow them, newest first (every match is on some page).`,
  '\n\n`chat_room` of an encrypted room you are an active member of → 400 `{"chat_room": ["This conversation is end-to-end encrypted: ',
  'its messages are not searchable."]}`; of any other room you cannot search (not a member, a member no more, no such room) → 404. ',
  'Without `chat_room`, encrypted rooms are left out silently. `sender` only filters.',
].join('');

export const searchRoutes: FastifyPluginAsyncTypebox<{ ctx: AppContext }> = async (app, { ctx }) => {
  const search = new SearchService(ctx);

  app.get('/api/messages/search/', {
    schema: {
      tags: ['messages'],
      summary: 'Search messages in your rooms',
      description: DESCRIPTION,
      querystring: SearchQuery,
      response: { 200: SearchPage, ...errors(400, 401, 404) },
    },
  }, async (request) => {
    const page = request.query.page ?? 1;
    const { count, results } = await search.search(request.auth.userId, request.query);
    return { count, ...pageLinks(request, ctx.config, page, SEARCH_PAGE_SIZE, count), results };
  });
};
