// What the log-in page says after a session ended without the user asking.
import { signal } from '@preact/signals';
import { chat } from './client.js';
import { clearAlerts } from './alerts.js';

export const endedNotice = signal<string | null>(null);

chat.session.onEnded((reason) => {
  clearAlerts();
  endedNotice.value = reason === 'expired' ? 'Your session has ended. Please log in again.' : null;
  // Nothing of the conversation stays on screen (the title follows the store, now empty).
  if (location.hash.startsWith('#/c/')) history.replaceState(null, '', '#/');
});
