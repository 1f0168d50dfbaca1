// One message as an article: sender, time, text, reply quote, attachment, reactions, actions.
import { useEffect, useState } from 'preact/hooks';
import { formatBytes, REACTION_TYPES, type Message, type OutboxItem, type ReactionType } from '../core/index.js';
import { attempt } from './alerts.js';
import { chat } from './client.js';
import { dayLabel, timeOf } from './format.js';

export const REACTION_EMOJI: Record<ReactionType, string> = { like: '👍', love: '❤️', laugh: '😂', wow: '😮', sad: '😢', angry: '😠' };

export interface MessageActions {
  reply(m: Message): void;
  edit(m: Message): void;
  remove(m: Message): void;
  /** Whether others' messages may be deleted too (a group's owner and admins, staff). */
  moderate: boolean;
  openImage(url: string, name: string): void;
  jumpTo(messageId: number): void;
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
  const original = chat.store.timeline(props.m.chat_room).find(id);
  const who = original ? (chat.username(original.sender) ?? original.sender_full_name) : null;
  const text = original ? (original.is_deleted ? 'Message deleted' : original.attachment ? `📎 ${original.attachment.file_name}` : original.content) : 'an earlier message';
  return (
    <button type="button" tabIndex={props.tab} class="quote" onClick={() => props.actions.jumpTo(id)} aria-label={`Reply to ${who ?? 'a message'}: ${text.slice(0, 80)}. Show it`}>
      <span class="quote-who">{who ?? 'Reply'}</span> <span class="quote-text">{text.slice(0, 140)}</span>
    </button>
  );
}

export function MessageItem(props: { m: Message; continued: boolean; seenBy: string[]; actions: MessageActions; focused: boolean }) {
  const { m, actions } = props;
  const me = chat.store.me.value;
  const mine = m.sender === me;
  const [picking, setPicking] = useState(false);
  const username = chat.username(m.sender) ?? m.sender_full_name;
  const tab = props.focused ? 0 : -1;
  return (
    <article class={`message${mine ? ' mine' : ''}${props.continued ? ' continued' : ''}${m.is_deleted ? ' deleted' : ''}`} data-id={m.id} tabIndex={tab} aria-labelledby={`msg-${m.id}-who msg-${m.id}-text`}>
      <header class={props.continued ? 'message-header sr-only' : 'message-header'}>
        <span class="sender" id={`msg-${m.id}-who`}>
          {username}
        </span>{' '}
        <time dateTime={m.created_at} title={`${dayLabel(m.created_at)} ${timeOf(m.created_at)}`}>
          {timeOf(m.created_at)}
        </time>
        {m.is_edited && !m.is_deleted && <span class="edited"> (edited)</span>}
      </header>
      {m.reply_to && !m.is_deleted && <ReplyQuote m={m} actions={actions} tab={tab} />}
      <div class="text" id={`msg-${m.id}-text`}>
        {m.is_deleted ? <em>{m.deleted_by ? `Message deleted by ${chat.username(m.deleted_by) ?? 'a moderator'}` : 'This message was deleted.'}</em> : m.attachment && m.content === m.attachment.file_name ? null : m.content}
      </div>
      {m.attachment && !m.is_deleted && <AttachmentView m={m} actions={actions} tab={tab} />}
      {!m.is_deleted && <Reactions m={m} tab={tab} />}
      {!m.is_deleted && (
        <div class="message-actions" role="toolbar" aria-label="Message actions">
          <button type="button" tabIndex={tab} onClick={() => actions.reply(m)}>
            Reply
          </button>
          <button type="button" tabIndex={tab} aria-expanded={picking} onClick={() => setPicking(!picking)}>
            React
          </button>
          {mine && (
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
            document.querySelector<HTMLElement>(`article[data-id="${m.id}"]`)?.focus();
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
