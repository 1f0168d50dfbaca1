// The message log of an open conversation: infinite scroll both ways within a bounded window,
// day separators, a "New messages" divider, jumps to the first unread and to the latest, "Seen
// by", and the arrow keys moving between messages (one tab stop for the whole log).
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Membership, Message } from '../core/index.js';
import { attempt, showError } from './alerts.js';
import { chat } from './client.js';
import { dayKey, dayLabel } from './format.js';
import { MessageItem, PendingItem, type MessageActions } from './message.js';

const NEAR_EDGE_PX = 300;
const AT_BOTTOM_PX = 40;
const GROUP_MS = 5 * 60_000;

/** The element of the first message (or divider) in view, and where it sits: restored after the window changes. */
function anchorOf(log: HTMLElement): { id: string; offset: number } | null {
  const top = log.getBoundingClientRect().top;
  for (const el of log.querySelectorAll<HTMLElement>('[data-id]')) {
    const r = el.getBoundingClientRect();
    if (r.bottom > top) return { id: el.dataset.id!, offset: r.top - top };
  }
  return null;
}

export function MessageLog(props: { conv: Membership; unreadFrom: number | null; actions: MessageActions; jump: { current: ((id: number) => void) | null }; toLatest: { current: (() => void) | null } }) {
  const roomId = props.conv.chat_room;
  const timeline = chat.store.timeline(roomId);
  const messages = timeline.messages.value;
  // Thread replies wait in their thread's panel.
  const pending = (chat.outbox.value?.items.value ?? []).filter((i) => i.chat_room === roomId && !i.thread);
  const ref = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const anchor = useRef<{ id: string; offset: number } | null>(null);
  const reading = useRef<{ id: string; offset: number } | null>(null);
  const positioned = useRef(false);
  const unreadSeen = useRef(false);
  const [active, setActive] = useState<number | null>(null);
  const [showJumpUnread, setShowJumpUnread] = useState(false);
  const [showJumpLatest, setShowJumpLatest] = useState(false);
  const me = chat.store.me.value;
  const members = chat.store.membersOf(roomId).value;

  // The divider goes before the first unread message, when the window reaches back to where reading stopped.
  const reachesReadPosition = !timeline.hasOlder.value || (messages.length > 0 && messages[0].id <= (props.unreadFrom ?? 0));
  const firstUnread = props.unreadFrom === null || !reachesReadPosition ? null : (messages.find((m) => m.id > props.unreadFrom! && m.sender !== me) ?? null);

  const report = () => {
    const log = ref.current;
    if (!log) return;
    const fromBottom = log.scrollHeight - log.scrollTop - log.clientHeight;
    atBottom.current = fromBottom < AT_BOTTOM_PX;
    const atLatest = atBottom.current && !timeline.hasNewer.value && document.visibilityState === 'visible';
    const v = chat.store.viewing.value;
    if (!v || v.roomId !== roomId || v.atLatest !== atLatest) chat.store.viewing.value = { roomId, atLatest };
    if (atLatest) {
      // The room's newest message may be a thread reply (not in this list): its summary is in view, so it counts as read.
      const newest = Math.max(timeline.newest?.id ?? 0, chat.store.conversations.value.get(roomId)?.last_message?.id ?? 0);
      if (newest) chat.markRead(roomId, newest);
    }
    setShowJumpLatest(timeline.hasNewer.value || fromBottom > log.clientHeight);
    // "Jump to first unread" until the divider has been in view (or there was nothing unread).
    if (props.unreadFrom === null || unreadSeen.current) return setShowJumpUnread(false);
    const divider = log.querySelector<HTMLElement>('.new-divider');
    const box = log.getBoundingClientRect();
    const r = divider?.getBoundingClientRect();
    if (r && r.bottom >= box.top && r.top <= box.bottom) {
      unreadSeen.current = true;
      setShowJumpUnread(false);
    } else setShowJumpUnread(true);
  };

  const loadEdge = async (direction: 'older' | 'newer') => {
    const log = ref.current;
    if (!log || timeline.loading.value) return;
    anchor.current = anchorOf(log);
    try {
      if (direction === 'older') await timeline.loadOlder();
      else await timeline.loadNewer();
    } catch (err) {
      anchor.current = null;
      showError(err);
    }
  };

  const onScroll = () => {
    const log = ref.current;
    if (!log) return;
    report();
    // Where the reader is, so changes above (the window dropping its oldest message) do not move the text.
    reading.current = atBottom.current ? null : anchorOf(log);
    if (log.scrollTop < NEAR_EDGE_PX && timeline.hasOlder.value) void loadEdge('older');
    else if (log.scrollHeight - log.scrollTop - log.clientHeight < NEAR_EDGE_PX && timeline.hasNewer.value) void loadEdge('newer');
  };

  // After the window changes: keep the reader where they were (older or newer pages loaded),
  // follow new messages when at the bottom, and place the first view.
  useLayoutEffect(() => {
    const log = ref.current;
    if (!log || !timeline.loaded.value) return;
    if (!positioned.current) {
      positioned.current = true;
      const divider = log.querySelector<HTMLElement>('.new-divider');
      if (divider) log.scrollTop = divider.offsetTop - log.offsetTop - 8;
      else log.scrollTop = log.scrollHeight;
    } else if (anchor.current || (!atBottom.current && reading.current)) {
      const at = (anchor.current ?? reading.current)!;
      const el = log.querySelector<HTMLElement>(`[data-id="${at.id}"]`);
      if (el) log.scrollTop += el.getBoundingClientRect().top - log.getBoundingClientRect().top - at.offset;
      anchor.current = null;
    } else if (atBottom.current) {
      log.scrollTop = log.scrollHeight;
    }
    report();
    // A short page may not fill the view: keep loading until it scrolls.
    if (log.scrollHeight <= log.clientHeight + NEAR_EDGE_PX && timeline.hasOlder.value) void loadEdge('older');
  }, [messages, pending.length, timeline.loaded.value]);

  useEffect(() => {
    const onVisible = () => report();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      document.removeEventListener('visibilitychange', onVisible);
      chat.store.viewing.value = null;
    };
  }, []);

  const scrollToMessage = (id: number) => {
    const el = ref.current?.querySelector<HTMLElement>(`[data-id="${id}"]`);
    if (!el) return false;
    el.scrollIntoView({ block: 'center' });
    el.focus();
    setActive(id);
    return true;
  };

  props.jump.current = async (id: number) => {
    if (scrollToMessage(id)) return;
    await attempt(() => timeline.loadAround(id));
    requestAnimationFrame(() => scrollToMessage(id));
  };

  const jumpToUnread = async () => {
    if (props.unreadFrom === null) return;
    if (firstUnread && scrollToMessage(firstUnread.id)) return;
    await attempt(() => timeline.loadAround(props.unreadFrom!));
    requestAnimationFrame(() => {
      const divider = ref.current?.querySelector<HTMLElement>('.new-divider');
      divider?.scrollIntoView({ block: 'start' });
    });
  };

  const jumpToLatest = async () => {
    atBottom.current = true;
    if (timeline.hasNewer.value) await attempt(() => timeline.loadLatest());
    const log = ref.current;
    if (log) log.scrollTop = log.scrollHeight;
  };
  props.toLatest.current = () => void jumpToLatest();

  // Arrow keys move between messages (one tab stop for the whole log).
  const onKeyDown = (e: KeyboardEvent) => {
    if (!['ArrowUp', 'ArrowDown', 'Home', 'End'].includes(e.key)) return;
    const target = e.target as HTMLElement;
    if (target.tagName !== 'ARTICLE' && target !== ref.current) return;
    e.preventDefault();
    const ids = messages.map((m) => m.id);
    if (!ids.length) return;
    const current = active !== null ? ids.indexOf(active) : ids.length;
    const next = e.key === 'Home' ? 0 : e.key === 'End' ? ids.length - 1 : e.key === 'ArrowUp' ? Math.max(0, current - 1) : Math.min(ids.length - 1, current + 1);
    scrollToMessage(ids[next]);
  };

  // "Seen by": under your latest message, the others whose read position has reached it.
  const myLast = [...messages].reverse().find((m) => m.sender === me && !m.is_deleted);
  const seenBy = myLast && members ? members.filter((mb) => mb.user !== me && (mb.last_seen_message ?? 0) >= myLast.id).map((mb) => mb.username) : [];
  const focusId = active !== null && messages.some((m) => m.id === active) ? active : (messages[messages.length - 1]?.id ?? null);

  const items: preact.JSX.Element[] = [];
  let prev: Message | null = null;
  for (const m of messages) {
    if (!prev || dayKey(prev.created_at) !== dayKey(m.created_at)) {
      items.push(
        <div class="day" role="separator" key={`day-${m.id}`}>
          <span>{dayLabel(m.created_at)}</span>
        </div>,
      );
      prev = null;
    }
    if (firstUnread && m.id === firstUnread.id) {
      items.push(
        <div class="new-divider" role="separator" key="new">
          <span>New messages</span>
        </div>,
      );
    }
    const continued = prev !== null && prev.sender === m.sender && !prev.is_deleted && Date.parse(m.created_at) - Date.parse(prev.created_at) < GROUP_MS && m.id !== firstUnread?.id;
    items.push(<MessageItem key={m.id} m={m} continued={continued} seenBy={m === myLast ? seenBy : []} actions={props.actions} focused={m.id === focusId} />);
    prev = m;
  }

  return (
    <div class={`log-wrap${showJumpLatest ? ' has-jump' : ''}`}>
      <div class="log" role="log" aria-label="Messages" ref={ref} onScroll={onScroll} onKeyDown={onKeyDown} tabIndex={messages.length ? -1 : 0} onFocusCapture={(e) => {
        const article = (e.target as HTMLElement).closest('article[data-id]') as HTMLElement | null;
        if (article) setActive(Number(article.dataset.id));
      }}>
        {timeline.hasOlder.value ? <p class="hint center">{timeline.loading.value === 'older' ? 'Loading earlier messages…' : ' '}</p> : timeline.loaded.value && <p class="hint center">This is the beginning of the conversation.</p>}
        {!timeline.loaded.value && <p class="hint center">Loading messages…</p>}
        {items}
        {!timeline.hasNewer.value && pending.map((item) => <PendingItem key={item.client_id} item={item} />)}
        {timeline.hasNewer.value && <p class="hint center">{timeline.loading.value === 'newer' ? 'Loading newer messages…' : ' '}</p>}
      </div>
      {showJumpUnread && (
        <button type="button" class="pill jump-unread" onClick={() => void jumpToUnread()}>
          Jump to first unread
        </button>
      )}
      {showJumpLatest && (
        <button type="button" class="pill jump-latest" onClick={() => void jumpToLatest()}>
          Jump to latest
        </button>
      )}
    </div>
  );
}
