// The conversation list: most recent activity first, each a link whose name is the
// conversation's display name, ending ", N unread" when there are unread messages.
import { memo } from 'preact/compat';
import { displayName, type Membership } from '../core/index.js';
import { chat } from './client.js';
import { attachmentName } from './e2ee.js';
import { whenShort } from './format.js';
import { LockIcon } from './icons.js';
import { roomHref, route } from './router.js';

function preview(m: Membership, who: string): string {
  const last = m.last_message;
  if (!last) return m.room_type === 'group' ? 'No messages yet' : 'Say hello';
  if (last.is_deleted) return 'Message deleted';
  const file = attachmentName(last);
  const text = last.e2ee?.state === 'failed' || (m.is_encrypted && !last.e2ee) ? 'Encrypted message' : file && (last.e2ee ? !last.content : true) ? `📎 ${file}` : last.content;
  return `${who}: ${text.replace(/\s+/g, ' ').slice(0, 120)}`;
}

/** One link; re-rendered only when its own conversation, its sender's name or the selection change (lists can be long). */
const ConversationLink = memo(function ConversationLink(props: { m: Membership; current: boolean; who: string; online: boolean }) {
  const { m } = props;
  const name = displayName(m);
  const unread = m.unread_count;
  const label = unread > 0 ? `${name}, ${unread} unread` : name;
  const previewId = `preview-${m.chat_room}`;
  return (
    <li>
      <a href={roomHref(m.chat_room)} class={`conversation${props.current ? ' current' : ''}${unread ? ' unread' : ''}`} aria-label={label} aria-describedby={previewId} aria-current={props.current ? 'page' : undefined}>
        <span class="avatar" aria-hidden="true">
          {m.room_type === 'group' ? '#' : name.charAt(0).toUpperCase()}
          {m.peer !== null && <span class={`dot presence-dot${props.online ? ' online' : ''}`} />}
        </span>
        <span class="conversation-text">
          <span class="conversation-top">
            <span class="conversation-name">{name}</span>
            {m.is_encrypted && (
              <span class="conversation-lock" title="End-to-end encrypted">
                <LockIcon />
              </span>
            )}
            {m.last_message && <time class="conversation-time">{whenShort(m.last_message.created_at)}</time>}
          </span>
          <span class="conversation-preview" id={previewId}>
            {props.online && <span class="sr-only">Online. </span>}
            {m.is_encrypted && <span class="sr-only">End-to-end encrypted. </span>}
            {preview(m, props.who)}
          </span>
        </span>
        {unread > 0 && (
          <span class="badge" aria-hidden="true">
            {unread > 99 ? '99+' : unread}
          </span>
        )}
      </a>
    </li>
  );
});

export function ConversationList() {
  const list = chat.store.conversationList.value;
  const r = route.value;
  const current = r.name === 'room' ? r.roomId : null;
  const me = chat.store.me.value;
  const names = chat.store.usernames.value;
  const presence = chat.store.presence.value;
  const who = (m: Membership) => (!m.last_message ? '' : m.last_message.sender === me ? 'You' : (names.get(m.last_message.sender) ?? m.last_message.sender_full_name));
  return (
    <nav aria-label="Conversations" class="conversations">
      {!chat.store.conversationsLoaded.value ? (
        <p class="hint pad">Loading conversations…</p>
      ) : list.length === 0 ? (
        <p class="hint pad">No conversations yet. Start one with New group or New direct message.</p>
      ) : (
        <ul>
          {list.map((m) => (
            <ConversationLink key={m.chat_room} m={m} current={m.chat_room === current} who={who(m)} online={m.peer !== null && presence.get(m.peer) === 'online'} />
          ))}
        </ul>
      )}
    </nav>
  );
}
