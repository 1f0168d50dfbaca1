// Searching messages: a search box in the sidebar, and the results (#/search?q=…&in=<room>) with
// the conversation, sender, time and the matched words marked; "More results" adds the next page;
// choosing a result opens its conversation at the message (a thread reply in its thread).
import { useEffect, useState } from 'preact/hooks';
import { displayName, highlightPieces, messageOf, type SearchResult } from '../core/index.js';
import { chat } from './client.js';
import { whenShort } from './format.js';
import { SearchIcon } from './icons.js';
import { messageHref, navigate, route, searchHref } from './router.js';

export function SearchBox() {
  const r = route.value;
  const current = r.name === 'search' ? r.q : '';
  const [text, setText] = useState(current);
  useEffect(() => setText(current), [current]);
  return (
    <form
      role="search"
      class="search-box"
      onSubmit={(e) => {
        e.preventDefault();
        const q = text.trim();
        if (q) navigate(searchHref(q, r.name === 'search' ? r.roomId : null));
      }}
    >
      <SearchIcon />
      <input type="search" aria-label="Search messages" placeholder="Search messages" enterKeyHint="search" maxLength={500} value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
    </form>
  );
}

/** The highlight as text and <mark> elements: never parsed as HTML. */
export function Highlight(props: { text: string }) {
  return <>{highlightPieces(props.text).map((p) => (p.mark ? <mark>{p.text}</mark> : p.text))}</>;
}

function roomName(roomId: number): string {
  const conv = chat.store.conversations.value.get(roomId);
  return conv ? displayName(conv) : 'A conversation';
}

export function SearchPage(props: { q: string; roomId: number | null }) {
  const { q, roomId } = props;
  const [results, setResults] = useState<SearchResult[]>([]);
  const [count, setCount] = useState<number | null>(null);
  const [page, setPage] = useState(1);
  const [more, setMore] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const load = async (n: number) => {
    setBusy(true);
    setError(null);
    try {
      const p = await chat.search(q, { chatRoom: roomId, page: n });
      // A message sent meanwhile moves the pages along: nothing shows twice.
      setResults((r) => (n === 1 ? p.results : [...r, ...p.results.filter((x) => !r.some((y) => y.message.id === x.message.id))]));
      setCount(p.count);
      setMore(p.next !== null);
      setPage(n);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    setResults([]);
    setCount(null);
    void load(1);
  }, [q, roomId]);

  const conversations = chat.store.conversationList.value;
  const where = roomId ? ` in ${roomName(roomId)}` : '';
  return (
    <section class="conversation-pane search-pane" aria-labelledby="search-title">
      <header class="room-header">
        <a href="#/" class="back" aria-label="All conversations">
          ‹
        </a>
        <div class="room-title">
          <h2 id="search-title">Search results</h2>
          <span class="subtitle">“{q}”</span>
        </div>
        <label class="search-in">
          <span>In</span>
          <select aria-label="Search in" value={roomId ?? ''} onChange={(e) => navigate(searchHref(q, Number((e.target as HTMLSelectElement).value) || null))}>
            <option value="">All conversations</option>
            {conversations.map((m) => (
              <option key={m.chat_room} value={m.chat_room}>
                {displayName(m)}
              </option>
            ))}
          </select>
        </label>
      </header>
      <div class="search-body">
        {error && (
          <p role="alert" class="form-error">
            {error}
          </p>
        )}
        <p class="hint" role="status">
          {count === null ? (busy ? 'Searching…' : '') : count === 0 ? `No messages match “${q}”${where}.` : `${count} ${count === 1 ? 'message matches' : 'messages match'} “${q}”${where}.`}
        </p>
        {results.length > 0 && (
          <ol class="results" aria-label="Search results">
            {results.map(({ message: m, highlight }) => (
              <li key={m.id}>
                <a class="result" href={messageHref(m.chat_room, m.id)}>
                  <span class="result-top">
                    <span class="result-room">{roomName(m.chat_room)}</span>
                    <span class="sender">{chat.username(m.sender) ?? m.sender_full_name}</span>
                    <time dateTime={m.created_at}>{whenShort(m.created_at)}</time>
                    {m.thread && <span class="hint">in a thread</span>}
                  </span>
                  <span class="result-text">
                    <Highlight text={highlight} />
                  </span>
                </a>
              </li>
            ))}
          </ol>
        )}
        {more && (
          <button type="button" class="more-results" disabled={busy} onClick={() => void load(page + 1)}>
            {busy ? 'Loading…' : 'More results'}
          </button>
        )}
      </div>
    </section>
  );
}
