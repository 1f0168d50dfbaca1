// One message as an article: sender, time, text (mentions highlighted), reply quote, attachment,
// reactions, its thread's summary, a pin marker, actions.
import { useEffect, useRef, useState } from 'preact/hooks';
import { formatBytes, mentionPieces, REACTION_TYPES, type Message, type OutboxItem, type ReactionType } from '../core/index.js';
import { attempt } from './alerts.js';
import { chat } from './client.js';
import { EncryptedAttachment, Undecryptable, attachmentName } from './e2ee.js';
import { dayLabel, timeOf, whenShort } from './format.js';
import { PinIcon } from './icons.js';

export const REACTION_EMOJI: Record<ReactionType, string> = { like: '👍', love: '❤️', laugh: '😂', wow: '😮', sad: '😢', angry: '😠' };

export interface MessageActions {
  /** A reply quoting the message (the room's list only). */
  reply?(m: Message): void;
  /** Opens the message's thread (top-level messages in the room's list). */
  thread?(m: Message): void;
  edit(m: Message): void;
  remove(m: Message): void;
  /** Whether others' messages may be deleted too (a group's owner and admins, staff). */
  moderate: boolean;
  /** Whether messages may be pinned and unpinned (anyone in a private room, a group's owner and admins). */
  pin: boolean;
  openImage(url: string, name: string): void;
  jumpTo(messageId: number): void;
}

/** The text, with the `@username` of each member it mentions highlighted (yours more so). */
function Text(props: { m: Message; me: number | null }) {
  const names = new Map<string, number>();
  for (const id of props.m.mentions ?? []) {
    const name = chat.username(id);
    if (name) names.set(name.toLowerCase(), id);
  }
  return (
    <>
      {mentionPieces(props.m.content, names).map((p) =>
        p.user === undefined ? p.text : <span class={p.user === props.me ? 'mention mention-you' : 'mention'}>{p.text}</span>,
      )}
    </>
  );
}

function ThreadSummary(props: { m: Message; actions: MessageActions; tab: number }) {
  const s = props.m.thread_summary!;
  return (
    <p class="thread-summary">
      <button type="button" class="link-button" tabIndex={props.tab} onClick={() => props.actions.thread!(props.m)}>
        {s.reply_count} {s.reply_count === 1 ? 'reply' : 'replies'}
      </button>{' '}
      <span class="hint">Last reply {whenShort(s.last_reply_at)}</span>
    </p>
  );
}

function Reactions(props: { m: Message; tab: number }) {
  const me = chat.store.me.value;
  const groups = new Map<ReactionType, number[]>();
  for (const r of props.m.reactions) groups.set(r.reaction_type, [...(groups.get(r.reaction_type) ?? []), r.user]);
  if (!groups.size) return null;
  return (
    <div class="reactions">
      {[...groups].map(([type, users]) => {
        const mine = me !== null && users.includes(me);
        const names = users.map((u) => (u === me ? 'you' : (chat.username(u) ?? '…'))).join(', ');
        return (
          <button type="button" tabIndex={props.tab} class={`chip${mine ? ' mine' : ''}`} aria-pressed={mine} aria-label={`${type}: ${users.length}, by ${names}`} title={names} onClick={() => attempt(() => chat.react(props.m, type))}>
            <span aria-hidden="true">{REACTION_EMOJI[type]}</span> {users.length}
          </button>
        );
      })}
    </div>
  );
}

function ReactionPicker(props: { m: Message; onDone: () => void }) {
  return (
    <div
      class="reaction-picker"
      role="group"
      aria-label="Pick a reaction"
      onKeyDown={(e) => {
        if (e.key !== 'Escape') return;
        e.preventDefault();
        e.stopPropagation();
        props.onDone();
      }}
    >
      {REACTION_TYPES.map((type, i) => (
        <button
          type="button"
          class="icon-button"
          aria-label={type}
          autoFocus={i === 0}
          onClick={() => {
            props.onDone();
            void attempt(() => chat.react(props.m, type));
          }}
        >
          {REACTION_EMOJI[type]}
        </button>
      ))}
    </div>
  );
}

function AttachmentView(props: { m: Message; actions: MessageActions; tab: number }) {
  if (props.m.e2ee?.file) return <EncryptedAttachment m={props.m} actions={props.actions} tab={props.tab} />;
  // A file of an encrypted message that could not be decrypted: its key is inside, so nothing to show.
  if (props.m.e2ee) return null;
  return <PlainAttachment m={props.m} actions={props.actions} tab={props.tab} />;
}

function PlainAttachment(props: { m: Message; actions: MessageActions; tab: number }) {
  const a = props.m.attachment!;
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    chat.attachmentUrl(a.id).then(
      (u) => live && setUrl(u),
      () => live && setFailed(true),
    );
    return () => {
      live = false;
    };
  }, [a.id]);
  if (failed) return <p class="hint">The attachment {a.file_name} could not be loaded.</p>;
  if (a.file_type === 'image') {
    return (
      <button type="button" tabIndex={props.tab} class="thumb" aria-label={`Open image ${a.file_name} (${formatBytes(a.size)})`} disabled={!url} onClick={() => url && props.actions.openImage(url, a.file_name)}>
        {url ? <img src={url} alt={a.file_name} loading="lazy" onError={() => setFailed(true)} /> : <span class="thumb-placeholder">Loading image…</span>}
      </button>
    );
  }
  return (
    <p class="file">
      <span aria-hidden="true">📎 </span>
      {url ? (
        <a href={url} download={a.file_name} tabIndex={props.tab}>
          {a.file_name}
        </a>
      ) : (
        <span>{a.file_name}</span>
      )}{' '}
      <span class="file-size">({formatBytes(a.size)})</span>
    </p>
  );
}

function ReplyQuote(props: { m: Message; actions: MessageActions; tab: number }) {
  const id = props.m.reply_to!;
  const original = chat.store.timelineOf(props.m).find(id);
  const who = original ? (chat.username(original.sender) ?? original.sender_full_name) : null;
  const file = original && attachmentName(original);
  const text = original ? (original.is_deleted ? 'Message deleted' : original.e2ee?.state === 'failed' ? 'Unable to decrypt' : file && !original.content ? `📎 ${file}` : original.content) : 'an earlier message';
  return (
    <button type="button" tabIndex={props.tab} class="quote" onClick={() => props.actions.jumpTo(id)} aria-label={`Reply to ${who ?? 'a message'}: ${text.slice(0, 80)}. Show it`}>
      <span class="quote-who">{who ?? 'Reply'}</span> <span class="quote-text">{text.slice(0, 140)}</span>
    </button>
  );
}

/** `idPrefix` keeps element ids apart where a message shows twice (a thread's root). */
export function MessageItem(props: { m: Message; continued: boolean; seenBy: string[]; actions: MessageActions; focused: boolean; idPrefix?: string }) {
  const { m, actions } = props;
  const me = chat.store.me.value;
  const mine = m.sender === me;
  const [picking, setPicking] = useState(false);
  const ref = useRef<HTMLElement>(null);
  const username = chat.username(m.sender) ?? m.sender_full_name;
  const tab = props.focused ? 0 : -1;
  const id = `${props.idPrefix ?? 'msg'}-${m.id}`;
  const mentionsMe = !m.is_deleted && me !== null && m.sender !== me && !!m.mentions?.includes(me);
  const pinned = !!m.pinned_at && !m.is_deleted;
  const failed = m.e2ee?.state === 'failed';
  // In an encrypted conversation, a message that was not encrypted (from before it was turned on, or from a client that does not encrypt).
  const plain = m.e2ee?.state === 'plain';
  const fileOnly = !!m.attachment && (m.e2ee?.file ? !m.content : m.content === m.attachment.file_name);
  return (
    <article
      ref={ref}
      class={`message${mine ? ' mine' : ''}${props.continued ? ' continued' : ''}${m.is_deleted ? ' deleted' : ''}${mentionsMe ? ' mentions-me' : ''}`}
      data-id={m.id}
      tabIndex={tab}
      aria-labelledby={`${id}-who${mentionsMe || pinned ? ` ${id}-note` : ''} ${id}-text`}
    >
      <header class={props.continued && !pinned ? 'message-header sr-only' : 'message-header'}>
        <span class="sender" id={`${id}-who`}>
          {username}
        </span>{' '}
        <time dateTime={m.created_at} title={`${dayLabel(m.created_at)} ${timeOf(m.created_at)}`}>
          {timeOf(m.created_at)}
        </time>
        {m.is_edited && !m.is_deleted && <span class="edited"> (edited)</span>}
        {plain && !m.is_deleted && (
          <span class="plain-tag" title="Sent before this conversation was encrypted, or by a client that does not encrypt: the server could read it, and could have written it.">
            {' '}
            Not encrypted
          </span>
        )}
        {pinned && (
          <span class="pin-tag" title={m.pinned_by ? `Pinned by ${chat.username(m.pinned_by) ?? '…'}` : undefined}>
            <PinIcon /> Pinned
          </span>
        )}
        {(mentionsMe || pinned) && (
          <span class="sr-only" id={`${id}-note`}>
            {[pinned && '(pinned)', mentionsMe && '(mentions you)'].filter(Boolean).join(' ')}
          </span>
        )}
      </header>
      {m.reply_to && !m.is_deleted && <ReplyQuote m={m} actions={actions} tab={tab} />}
      <div class="text" id={`${id}-text`}>
        {m.is_deleted ? <em>{m.deleted_by ? `Message deleted by ${chat.username(m.deleted_by) ?? 'a moderator'}` : 'This message was deleted.'}</em> : failed ? <Undecryptable m={m} /> : fileOnly ? null : <Text m={m} me={me} />}
      </div>
      {m.attachment && !m.is_deleted && <AttachmentView m={m} actions={actions} tab={tab} />}
      {!m.is_deleted && <Reactions m={m} tab={tab} />}
      {actions.thread && m.thread_summary && <ThreadSummary m={m} actions={actions} tab={tab} />}
      {!m.is_deleted && (
        <div class="message-actions" role="toolbar" aria-label="Message actions">
          {actions.reply && (
            <button type="button" tabIndex={tab} onClick={() => actions.reply!(m)}>
              Reply
            </button>
          )}
          {actions.thread && !m.thread && (
            <button type="button" tabIndex={tab} onClick={() => actions.thread!(m)}>
              Open thread
            </button>
          )}
          <button type="button" tabIndex={tab} aria-expanded={picking} onClick={() => setPicking(!picking)}>
            React
          </button>
          {actions.pin && (
            <button type="button" tabIndex={tab} onClick={() => void attempt(() => chat.setPinned(m, !pinned))}>
              {pinned ? 'Unpin' : 'Pin'}
            </button>
          )}
          {mine && !failed && (
            <button type="button" tabIndex={tab} onClick={() => actions.edit(m)}>
              Edit
            </button>
          )}
          {(mine || actions.moderate) && (
            <button type="button" tabIndex={tab} onClick={() => actions.remove(m)}>
              Delete
            </button>
          )}
        </div>
      )}
      {picking && (
        <ReactionPicker
          m={m}
          onDone={() => {
            setPicking(false);
            // The picker's buttons are gone: focus goes back to the message, not to the page.
            ref.current?.focus();
          }}
        />
      )}
      {props.seenBy.length > 0 && <p class="seen">Seen by {props.seenBy.join(', ')}</p>}
    </article>
  );
}

export function PendingItem(props: { item: OutboxItem }) {
  const { item } = props;
  const me = chat.store.me.value;
  const name = me !== null ? chat.username(me) : '';
  return (
    <article class={`message mine pending${item.state === 'failed' ? ' failed' : ''}`} aria-label={`${name}: ${item.content}`}>
      <header class="message-header">
        <span class="sender">{name}</span>{' '}
        <span class="state">{item.state === 'failed' ? 'Not sent' : 'Sending…'}</span>
      </header>
      <div class="text">{item.content}</div>
      {item.state === 'failed' && (
        <div class="pending-actions">
          <span class="form-error">{item.error}</span>{' '}
          <button type="button" onClick={() => chat.outbox.value?.retry(item.client_id)}>
            Retry
          </button>{' '}
          <button type="button" onClick={() => chat.outbox.value?.discard(item.client_id)}>
            Discard
          </button>
        </div>
      )}
    </article>
  );
}
