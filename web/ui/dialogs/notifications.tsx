import { useState } from 'preact/hooks';
import type { Notification } from '../../core/index.js';
import { attempt } from '../alerts.js';
import { chat } from '../client.js';
import { whenShort } from '../format.js';
import { desktopPermission, requestDesktopNotifications } from '../desktop.js';
import { Dialog } from '../dialog.js';
import { messageHref, navigate, roomHref } from '../router.js';

export function NotificationsDialog(props: { onClose: () => void }) {
  const list = chat.store.notifications.value;
  const [permission, setPermission] = useState(desktopPermission());
  const open = (n: Notification) => {
    void attempt(() => chat.markNotificationRead(n));
    if (n.chat_room !== null && chat.store.conversations.value.has(n.chat_room)) {
      props.onClose();
      // A mention opens the conversation at the message.
      navigate(n.type === 'mention' && n.message !== null ? messageHref(n.chat_room, n.message) : roomHref(n.chat_room));
    }
  };
  return (
    <Dialog title="Notifications" onClose={props.onClose}>
      <div class="dialog-actions start">
        <button type="button" disabled={chat.store.unreadNotifications.value === 0} onClick={() => void attempt(() => chat.markAllNotificationsRead())}>
          Mark all read
        </button>
        {permission === 'default' && (
          <button type="button" onClick={() => void requestDesktopNotifications().then(setPermission)}>
            Enable desktop notifications
          </button>
        )}
        {permission === 'denied' && <span class="hint">Desktop notifications are blocked in this browser's settings.</span>}
      </div>
      {list.length === 0 ? (
        <p class="hint">Nothing yet.</p>
      ) : (
        <ul class="notification-list">
          {list.map((n) => (
            <li key={n.id}>
              <button type="button" class={`notification${n.is_read ? '' : ' unread'}`} onClick={() => open(n)}>
                <span class="notification-body">{n.body}</span>
                <time class="hint" dateTime={n.created_at}>
                  {whenShort(n.created_at)}
                </time>
                {!n.is_read && <span class="sr-only"> (unread)</span>}
              </button>
            </li>
          ))}
        </ul>
      )}
    </Dialog>
  );
}
