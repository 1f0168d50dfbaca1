// Desktop notifications while the tab is hidden (permission asked only from a click), and the
// unread total in the page title.
import { effect } from '@preact/signals';
import { displayName, type Notification as ChatNotification } from '../core/index.js';
import { chat } from './client.js';
import { messageHref, navigate, roomHref, route } from './router.js';

export function desktopPermission(): NotificationPermission | 'unsupported' {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

export async function requestDesktopNotifications(): Promise<NotificationPermission | 'unsupported'> {
  if (typeof Notification === 'undefined') return 'unsupported';
  return Notification.requestPermission();
}

function showDesktop(n: ChatNotification) {
  if (desktopPermission() !== 'granted' || document.visibilityState === 'visible') return;
  const shown = new Notification('Chat', { body: n.body, tag: `chat-${n.id}` });
  shown.onclick = () => {
    window.focus();
    if (n.chat_room !== null) navigate(n.type === 'mention' && n.message !== null ? messageHref(n.chat_room, n.message) : roomHref(n.chat_room));
    shown.close();
  };
}

export function startDesktopIntegration(): void {
  chat.onNotification(showDesktop);
  // The title: the unread total, the open conversation's name, the app (just "Chat" once logged out).
  effect(() => {
    const n = chat.store.unreadTotal.value;
    const r = route.value;
    const conv = r.name === 'room' ? chat.store.conversations.value.get(r.roomId) : undefined;
    document.title = `${n ? `(${n}) ` : ''}${conv ? `${displayName(conv)} · ` : ''}Chat`;
  });
}
