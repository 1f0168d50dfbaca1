import { useState } from 'preact/hooks';
import { messageOf, type User } from '../../core/index.js';
import { chat } from '../client.js';
import { Combobox } from '../combobox.js';
import { Dialog } from '../dialog.js';
import { navigate, roomHref } from '../router.js';
import { userOptions } from './user-search.js';

export function NewDirectDialog(props: { onClose: () => void }) {
  const [user, setUser] = useState<User | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const start = async (e: Event) => {
    e.preventDefault();
    if (!user) {
      setError('Pick a person from the list.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const room = await chat.startDirect(user.id);
      props.onClose();
      navigate(roomHref(room.id));
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  };
  return (
    <Dialog title="New direct message" onClose={props.onClose}>
      <form onSubmit={start} noValidate>
        <Combobox label="Username" placeholder="Type a username" autoFocus keepText search={(text) => userOptions(text)} onPick={(u) => setUser(u)} />
        {user && <p class="hint">With {user.username}</p>}
        {error && (
          <p role="alert" class="form-error">
            {error}
          </p>
        )}
        <div class="dialog-actions">
          <button type="submit" class="primary" disabled={busy}>
            Start
          </button>
        </div>
      </form>
    </Dialog>
  );
}
