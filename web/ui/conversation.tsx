// An open conversation: its header (name, presence, Pinned messages, Members, Leave), an encrypted
// one's key warnings and device notices, the message log, who is typing, the composer, dropping
// files, a thread beside them, and its dialogs; once you are removed from it, who did it.
// `messageId` (a search result, a mention) is shown when it opens.
import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { displayName, type Membership, type Message } from '../core/index.js';
import { attempt } from './alerts.js';
import { chat } from './client.js';
import { Composer, sendFiles, uploadLimitText, type Upload } from './composer.js';
import { BansDialog } from './dialogs/bans.js';
import { ConfirmDialog } from './dialogs/confirm.js';
import { VerifyDialog } from './dialogs/verify.js';
import { DeviceNotices, EncryptedBadge, IdentityWarnings } from './e2ee.js';
import { ImageDialog } from './dialogs/image.js';
import { InvitesDialog } from './dialogs/invites.js';
import { MembersDialog } from './dialogs/members.js';
import { PinsDialog } from './dialogs/pins.js';
import { PinIcon } from './icons.js';
import type { MessageActions } from './message.js';
import { MessageLog } from './message-log.js';
import { navigate } from './router.js';
import { ThreadPanel } from './thread.js';

function TypingStatus(props: { roomId: number }) {
  // Read the signal so the text follows it (typers() filters expired entries).
  void chat.store.typing.value;
  const names = chat.store.typers(props.roomId).map((u) => chat.username(u) ?? 'Someone');
  const text = names.length === 0 ? '' : names.length === 1 ? `${names[0]} is typing…` : names.length === 2 ? `${names[0]} and ${names[1]} are typing…` : `${names.length} people are typing…`;
  return (
    <div role="status" class="typing">
      {text}
    </div>
  );
}

function Presence(props: { conv: Membership }) {
  const members = chat.store.membersOf(props.conv.chat_room).value;
  const me = chat.store.me.value;
  if (props.conv.room_type === 'group') return <span class="subtitle">{members ? `${members.length} ${members.length === 1 ? 'member' : 'members'}` : ''}</span>;
  const other = members?.find((m) => m.user !== me);
  if (!other) return null;
  const online = chat.store.presence.value.get(other.user) === 'online';
  return (
    <span class="subtitle">
      <span class={`dot${online ? ' online' : ''}`} aria-hidden="true" />
      {online ? 'Online' : 'Offline'}
    </span>
  );
}

export function Conversation(props: { roomId: number; messageId?: number }) {
  const { roomId } = props;
  const conv = chat.store.conversations.value.get(roomId);
  const replyTo = useSignal<Message | null>(null);
  const editing = useSignal<Message | null>(null);
  const uploads = useSignal<Upload[]>([]);
  const dialog = useSignal<'members' | 'invites' | 'bans' | 'leave' | 'pins' | null>(null);
  const thread = useSignal<{ root: Message; target: number | null } | null>(null);
  const deleting = useSignal<Message | null>(null);
  const image = useSignal<{ url: string; name: string } | null>(null);
  const verifying = useSignal<number | null>(null);
  const dragging = useSignal(false);
  const jump = useRef<((id: number) => void) | null>(null);
  const toLatest = useRef<(() => void) | null>(null);
  // Where the unread messages began when the conversation was opened (the divider stays there until it is left,
  // or until the reader writes in it: what they answer, they have read); decided once the conversation is known
  // (a page loaded at a room's address learns it a moment later).
  const unreadFrom = useRef<number | null | undefined>(undefined);
  if (unreadFrom.current === undefined && conv) unreadFrom.current = conv.unread_count > 0 ? (conv.last_seen_message ?? 0) : null;
  const answered = useSignal(false);
  const sent = () => {
    answered.value = true;
    toLatest.current?.();
  };
  /** Shows a message: in the list (loading the part around it), or a reply in its thread. */
  const show = async (target: Message | number) => {
    const m = typeof target === 'number' ? (chat.store.timeline(roomId).find(target) ?? (await chat.message(target))) : target;
    if (m.chat_room !== roomId) return;
    if (!m.thread) return jump.current?.(m.id);
    const root = chat.store.timeline(roomId).find(m.thread) ?? (await chat.message(m.thread));
    thread.value = { root, target: m.id };
  };
  useEffect(() => {
    if (!conv) return;
    void attempt(() => chat.openRoom(roomId));
    void chat.loadPins(roomId).catch(() => undefined);
  }, [roomId, !!conv]);
  useEffect(() => {
    if (conv && props.messageId) void attempt(() => show(props.messageId!));
  }, [roomId, !!conv, props.messageId]);

  if (!conv) {
    const removed = chat.store.removed.value.get(roomId);
    const by = removed && (chat.username(removed.by) ?? 'a moderator');
    return (
      <section class="conversation-pane empty">
        <p role={removed ? 'status' : undefined}>
          {removed
            ? `You were ${removed.banned ? 'banned' : 'removed'} from ${removed.name} by ${by}.`
            : chat.store.conversationsLoaded.value
              ? 'This conversation is not in your list. You may have left it, or it may not exist.'
              : 'Loading…'}
        </p>
        {chat.store.conversationsLoaded.value && (
          <p>
            <a href="#/">Back to your conversations</a>
          </p>
        )}
      </section>
    );
  }

  const actions: MessageActions = {
    reply: (m) => {
      editing.value = null;
      replyTo.value = m;
    },
    edit: (m) => {
      replyTo.value = null;
      editing.value = m;
    },
    remove: (m) => (deleting.value = m),
    thread: (m) => (thread.value = { root: m, target: null }),
    moderate: chat.moderates(roomId) || !!chat.me?.is_staff,
    pin: chat.canPin(roomId),
    openImage: (url, name) => (image.value = { url, name }),
    jumpTo: (id) => jump.current?.(id),
  };

  const name = displayName(conv);
  const pinCount = chat.store.pinsOf(roomId).value?.length ?? 0;
  return (
    <section
      class="conversation-pane"
      aria-labelledby="room-title"
      onDragOver={(e) => {
        if (e.dataTransfer?.types.includes('Files')) {
          e.preventDefault();
          dragging.value = true;
        }
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) dragging.value = false;
      }}
      onDrop={(e) => {
        e.preventDefault();
        dragging.value = false;
        const files = [...(e.dataTransfer?.files ?? [])];
        if (!files.length) return;
        answered.value = true;
        void sendFiles(roomId, files, uploads, replyTo.value?.id ?? null);
      }}
    >
      <header class="room-header">
        <a href="#/" class="back" aria-label="All conversations">
          ‹
        </a>
        <div class="room-title">
          <h2 id="room-title">{name}</h2>
          <Presence conv={conv} />
          {conv.is_encrypted && <EncryptedBadge />}
        </div>
        <div class="room-actions">
          <button type="button" class="pins-button" aria-label="Pinned messages" onClick={() => (dialog.value = 'pins')}>
            <PinIcon />
            <span class="wide-only">Pinned</span>
            {pinCount > 0 && (
              <span class="count" aria-hidden="true">
                {pinCount}
              </span>
            )}
          </button>
          <button type="button" onClick={() => (dialog.value = 'members')}>
            Members
          </button>
          <button type="button" onClick={() => (dialog.value = 'leave')}>
            Leave
          </button>
        </div>
      </header>
      <div class={`conversation-body${thread.value ? ' has-thread' : ''}`}>
        <div class="conversation-main">
          {conv.is_encrypted && <IdentityWarnings roomId={roomId} onVerify={(user) => (verifying.value = user)} />}
          {conv.is_encrypted && <DeviceNotices roomId={roomId} onVerify={(user) => (verifying.value = user)} />}
          <MessageLog conv={conv} unreadFrom={answered.value ? null : (unreadFrom.current ?? null)} actions={actions} jump={jump} toLatest={toLatest} />
          <TypingStatus roomId={roomId} />
          <Composer roomId={roomId} placeholder={`${conv.is_encrypted ? 'Encrypted message to' : 'Message'} ${conv.room_type === 'group' ? '#' : ''}${name}`} replyTo={replyTo} editing={editing} uploads={uploads} onSent={sent} />
        </div>
        {thread.value && (
          <ThreadPanel
            key={thread.value.root.id}
            root={thread.value.root}
            target={thread.value.target}
            actions={actions}
            onClose={() => {
              const id = thread.value?.root.id;
              thread.value = null;
              // Back to the root in the list (its thread's summary), or the message box.
              const el = id !== undefined ? document.querySelector<HTMLElement>(`.log [data-id="${id}"]`) : null;
              (el ?? document.querySelector<HTMLElement>('.conversation-main textarea'))?.focus();
            }}
          />
        )}
      </div>
      {dragging.value && (
        <div class="drop-overlay" aria-hidden="true">
          <p>Drop files to send them to {name}</p>
          <p class="hint">{uploadLimitText()}</p>
        </div>
      )}
      {dialog.value === 'members' && <MembersDialog conv={conv} onClose={() => (dialog.value = null)} onOpen={(d) => (dialog.value = d)} onVerify={(user) => (verifying.value = user)} />}
      {verifying.value !== null && (
        <VerifyDialog user={verifying.value} username={chat.username(verifying.value) ?? `user ${verifying.value}`} onClose={() => (verifying.value = null)} />
      )}
      {dialog.value === 'invites' && <InvitesDialog roomId={roomId} onClose={() => (dialog.value = 'members')} />}
      {dialog.value === 'bans' && <BansDialog roomId={roomId} group={name} onClose={() => (dialog.value = 'members')} />}
      {dialog.value === 'pins' && (
        <PinsDialog
          roomId={roomId}
          onClose={() => (dialog.value = null)}
          onShow={(m) => {
            dialog.value = null;
            // After the dialog has given focus back: the message takes it.
            requestAnimationFrame(() => void attempt(() => show(m)));
          }}
        />
      )}
      {dialog.value === 'leave' && (
        <ConfirmDialog
          title={conv.room_type === 'group' ? `Leave ${name}?` : `Hide the conversation with ${name}?`}
          body={conv.room_type === 'group' ? 'You will stop receiving its messages. You can join again if it is public, or be added back.' : 'It comes back when a new message arrives.'}
          confirm={conv.room_type === 'group' ? 'Leave group' : 'Hide conversation'}
          onConfirm={async () => {
            await chat.leave(roomId);
            navigate('#/');
          }}
          onClose={() => (dialog.value = null)}
        />
      )}
      {deleting.value && (
        <ConfirmDialog
          title="Delete this message?"
          body={deleting.value.sender === chat.store.me.value ? 'It is removed for everyone in the conversation.' : 'It is removed for everyone in the conversation, and shows that you deleted it.'}
          confirm="Delete message"
          onConfirm={() => chat.deleteMessage(deleting.value!)}
          onClose={() => (deleting.value = null)}
        />
      )}
      {image.value && <ImageDialog url={image.value.url} name={image.value.name} onClose={() => (image.value = null)} />}
    </section>
  );
}
