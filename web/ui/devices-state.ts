// Whether "Your devices" is open: the shell shows it; the sidebar's Devices button and a
// conversation's "You added a new device" notice open it.
import { signal } from '@preact/signals';
import { chat } from './client.js';

export const devicesDialogOpen = signal(false);
chat.session.onEnded(() => (devicesDialogOpen.value = false));
