// What the log-in page says after a session ended without the user asking.
import { signal } from '@preact/signals';
import { chat } from './client.js';
import { clearAlerts } from './alerts.js';

export const endedNotice = signal<string | null>(null);

chat.session.onEnded((reason) => {
  clearAlerts();
  endedNotice.value = reason === 'expired' ? 'Your session has ended. Please log in again.' : null;
});
