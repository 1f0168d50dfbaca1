// The logged-in screen: the sidebar (you, notifications, your devices, log out, search, new
// conversations, the conversation list; Admin for staff) beside the open conversation, search results, an invitation
// or the admin page; dialogs; Ctrl/Cmd+K to switch.
import { useSignal } from '@preact/signals';
import { useEffect, useState } from 'preact/hooks';
import { AdminPage } from './admin.js';
import { attempt } from './alerts.js';
import { chat } from './client.js';
import { Conversation } from './conversation.js';
import { BrowseDialog } from './dialogs/browse.js';
import { NewDirectDialog } from './dialogs/new-direct.js';
import { NewGroupDialog } from './dialogs/new-group.js';
import { NotificationsDialog } from './dialogs/notifications.js';
import { SwitcherDialog } from './dialogs/switcher.js';
import { InvitePage } from './invite.js';
import { route } from './router.js';
import { SearchBox, SearchPage } from './search.js';
import { BellIcon, DevicesIcon, HashIcon, MessageIcon, SearchIcon } from './icons.js';
import { ConversationList } from './sidebar.js';
import { devicesDialogOpen } from './devices-state.js';
import { DevicesDialog } from './dialogs/devices.js';

type DialogName = 'group' | 'direct' | 'browse' | 'notifications' | 'switcher' | null;

/** Shown while events cannot arrive; it goes away by itself when the connection is back. */
function ConnectionBanner() {
  const state = chat.connection.value;
  const [late, setLate] = useState(false);
  // A first connection takes a moment: say nothing unless it takes long.
  useEffect(() => {
    if (state === 'online' || state === 'stopped') return setLate(false);
    const t = setTimeout(() => setLate(true), 1500);
    return () => clearTimeout(t);
  }, [state]);
  if (!late) return null;
  return (
    <div class="banner" role="status">
      <span>Connection lost. Reconnecting…</span>
      <button type="button" class="link-button" onClick={() => chat.socket.reconnectNow()}>
        Retry now
      </button>
    </div>
  );
}

export function Shell() {
  const dialog = useSignal<DialogName>(null);
  const me = chat.session.user.value;
  const r = route.value;
  const unreadNotes = chat.store.unreadNotifications.value;

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        dialog.value = 'switcher';
      }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);

  const close = () => (dialog.value = null);
  return (
    <div class={`shell${r.name !== 'home' ? ' has-room' : ''}`}>
      <aside class="sidebar">
        <header class="me">
          <span class="me-name" title={me?.email}>
            {me?.username}
          </span>
          <button type="button" class="notes-button" aria-label={unreadNotes ? `Notifications, ${unreadNotes} unread` : 'Notifications'} onClick={() => (dialog.value = 'notifications')}>
            <BellIcon />
            {unreadNotes > 0 && (
              <span class="badge" aria-hidden="true">
                {unreadNotes > 99 ? '99+' : unreadNotes}
              </span>
            )}
          </button>
          {me?.is_staff && (
            <a href="#/admin" class={`button-link${r.name === 'admin' ? ' current' : ''}`} aria-current={r.name === 'admin' ? 'page' : undefined}>
              Admin
            </a>
          )}
          <button type="button" class="notes-button" aria-label="Devices" title="Your devices: the browsers set up for encrypted conversations" onClick={() => (devicesDialogOpen.value = true)}>
            <DevicesIcon />
          </button>
          <button type="button" onClick={() => void attempt(() => chat.logout())}>
            Log out
          </button>
        </header>
        <SearchBox />
        <div class="sidebar-actions">
          <button type="button" onClick={() => (dialog.value = 'group')}>
            <HashIcon />
            New group
          </button>
          <button type="button" onClick={() => (dialog.value = 'direct')}>
            <MessageIcon />
            New direct message
          </button>
          <button type="button" onClick={() => (dialog.value = 'browse')}>
            <SearchIcon />
            Browse groups
          </button>
        </div>
        <ConversationList />
        <p class="hint shortcut">
          <kbd>Ctrl</kbd>+<kbd>K</kbd> switch conversation
        </p>
      </aside>
      <main class="main">
        {r.name === 'room' ? (
          <Conversation key={r.roomId} roomId={r.roomId} messageId={r.messageId} />
        ) : r.name === 'search' ? (
          <SearchPage key={`${r.q}\n${r.roomId}`} q={r.q} roomId={r.roomId} />
        ) : r.name === 'invite' ? (
          <InvitePage key={r.code} code={r.code} />
        ) : r.name === 'admin' ? (
          <AdminPage />
        ) : (
          <section class="conversation-pane empty">
            <h1>Welcome{me ? `, ${me.username}` : ''}</h1>
            <p>Pick a conversation, start a new one, or browse the public groups.</p>
          </section>
        )}
      </main>
      <ConnectionBanner />
      {dialog.value === 'group' && <NewGroupDialog onClose={close} />}
      {dialog.value === 'direct' && <NewDirectDialog onClose={close} />}
      {dialog.value === 'browse' && <BrowseDialog onClose={close} />}
      {dialog.value === 'notifications' && <NotificationsDialog onClose={close} />}
      {dialog.value === 'switcher' && <SwitcherDialog onClose={close} />}
      {devicesDialogOpen.value && <DevicesDialog onClose={() => (devicesDialogOpen.value = false)} />}
    </div>
  );
}
