import { useState } from 'preact/hooks';
import type { User } from '../../core/index.js';
import { chat } from '../client.js';
import { Combobox } from '../combobox.js';
import { Dialog } from '../dialog.js';
import { FormError, useAction } from '../forms.js';
import { navigate, roomHref } from '../router.js';
import { userOptions } from './user-search.js';

export function NewDirectDialog(props: { onClose: () => void }) {
  const [user, setUser] = useState<User | null>(null);
  const [encrypted, setEncrypted] = useState(false);
  const canEncrypt = chat.encryption.status.value !== 'unavailable';
  const { error, busy, run, setError } = useAction();
  const start = async (e: Event) => {
    e.preventDefault();
    if (!user) return setError('Pick a person from the list.');
    await run(async () => {
      const room = await chat.startDirect(user.id, { encrypted });
      props.onClose();
      navigate(roomHref(room.id));
    });
  };
  return (
    <Dialog title="New direct message" onClose={props.onClose}>
      <form onSubmit={start} noValidate>
        <Combobox label="Username" placeholder="Type a username" autoFocus keepText search={(text) => userOptions(text)} onPick={(u) => setUser(u)} />
        {user && <p class="hint">With {user.username}</p>}
        <div class="check">
          <input id="direct-e2ee" type="checkbox" checked={encrypted} disabled={!canEncrypt} aria-describedby="direct-e2ee-hint" onChange={(e) => setEncrypted((e.target as HTMLInputElement).checked)} />
          <label for="direct-e2ee">End-to-end encrypted</label>
          <span class="hint" id="direct-e2ee-hint">
            {' '}
            {canEncrypt ? 'Only your and their devices can read it. An existing conversation of you two is encrypted from now on, for good.' : 'This browser cannot encrypt (no IndexedDB).'}
          </span>
        </div>
        <FormError error={error} />
        <div class="dialog-actions">
          <button type="submit" class="primary" disabled={busy}>
            Start
          </button>
        </div>
      </form>
    </Dialog>
  );
}
