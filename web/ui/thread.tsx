// A thread beside its conversation: the root, its replies (live, older and newer ones on demand),
// and a composer that replies in the thread. Esc (with nothing else to cancel) or "Close thread"
// closes it; the arrow keys move between replies.
import { useSignal } from '@preact/signals';
import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import type { Message } from '../core/index.js';
import { attempt } from './alerts.js';
import { chat } from './client.js';
import { Composer, type Upload } from './composer.js';
import { MessageItem, PendingItem, type MessageActions } from './message.js';

const AT_BOTTOM_PX = 40;

export function ThreadPanel(props: { root: Message; target: number | null; actions: MessageActions; onClose: () => void }) {
  const roomId = props.root.chat_room;
  const t = chat.store.thread(props.root.id, roomId);
  // The root as the room's list has it (reactions included), else as the thread last heard.
  const root = chat.store.timeline(roomId).find(props.root.id) ?? t.root.value ?? props.root;
  const replies = t.messages.value;
  const pending = (chat.outbox.value?.items.value ?? []).filter((i) => i.thread === root.id);
  const editing = useSignal<Message | null>(null);
  const replyTo = useSignal<Message | null>(null);
  const uploads = useSignal<Upload[]>([]);
  const body = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const active = useSignal<number | null>(null);

  const show = (id: number) => {
    const el = body.current?.querySelector<HTMLElement>(`.thread-log [data-id="${id}"]`);
    if (!el) return false;
    el.scrollIntoView({ block: 'center' });
    el.focus();
    active.value = id;
    return true;
  };

  useEffect(() => {
    t.setRoot(props.root);
    const target = props.target;
    if (target !== null) atBottom.current = false;
    void attempt(async () => {
      if (target !== null && !t.find(target)) await t.loadAround(target);
      else if (!t.loaded.value) await t.loadLatest();
      if (target !== null) requestAnimationFrame(() => show(target));
    });
  }, [props.root.id, props.target]);

  // New replies keep the view at the bottom when it was there.
  useLayoutEffect(() => {
    const el = body.current;
    if (el && atBottom.current) el.scrollTop = el.scrollHeight;
  }, [replies, pending.length]);

  const actions: MessageActions = {
    ...props.actions,
    reply: undefined,
    thread: undefined,
    edit: (m) => (editing.value = m),
  };
  const focusId = active.value !== null && replies.some((m) => m.id === active.value) ? active.value : (replies[replies.length - 1]?.id ?? null);
  const count = root.thread_summary?.reply_count ?? 0;

  return (
    <aside
      class="thread-panel"
      aria-labelledby="thread-title"
      onKeyDown={(e) => {
        if (e.key === 'Escape' && !e.defaultPrevented && !editing.value) {
          e.preventDefault();
          props.onClose();
        }
      }}
    >
      <header class="thread-header">
        <h2 id="thread-title">Thread</h2>
        <button type="button" class="icon-button" aria-label="Close thread" onClick={props.onClose}>
          ×
        </button>
      </header>
      <div
        class="thread-body"
        ref={body}
        onScroll={() => {
          const el = body.current!;
          atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < AT_BOTTOM_PX;
        }}
      >
        <div class="thread-root">
          <MessageItem m={root} continued={false} seenBy={[]} actions={{ ...actions, edit: props.actions.edit }} focused={false} idPrefix="root" />
        </div>
        <p class="day thread-count">
          <span>{count === 0 ? 'No replies yet' : `${count} ${count === 1 ? 'reply' : 'replies'}`}</span>
        </p>
        {t.hasOlder.value && (
          <button type="button" class="link-button more" disabled={!!t.loading.value} onClick={() => void attempt(() => t.loadOlder())}>
            Earlier replies
          </button>
        )}
        <div
          class="thread-log"
          role="log"
          aria-label="Thread replies"
          onKeyDown={(e) => {
            if (!['ArrowUp', 'ArrowDown'].includes(e.key) || (e.target as HTMLElement).tagName !== 'ARTICLE') return;
            e.preventDefault();
            const i = replies.findIndex((m) => m.id === focusId);
            const next = replies[Math.max(0, Math.min(replies.length - 1, i + (e.key === 'ArrowUp' ? -1 : 1)))];
            if (next) show(next.id);
          }}
          onFocusCapture={(e) => {
            const article = (e.target as HTMLElement).closest('article[data-id]') as HTMLElement | null;
            if (article) active.value = Number(article.dataset.id);
          }}
        >
          {!t.loaded.value && <p class="hint">Loading replies…</p>}
          {replies.map((m) => (
            <MessageItem key={m.id} m={m} continued={false} seenBy={[]} actions={actions} focused={m.id === focusId} idPrefix="reply" />
          ))}
          {!t.hasNewer.value && pending.map((item) => <PendingItem key={item.client_id} item={item} />)}
        </div>
        {t.hasNewer.value && (
          <button type="button" class="link-button more" disabled={!!t.loading.value} onClick={() => void attempt(() => t.loadNewer())}>
            Later replies
          </button>
        )}
      </div>
      <Composer roomId={roomId} thread={root.id} placeholder="Reply…" replyTo={replyTo} editing={editing} uploads={uploads} onSent={() => {
          atBottom.current = true;
          if (t.hasNewer.value) void attempt(() => t.loadLatest());
        }}
      />
    </aside>
  );
}
