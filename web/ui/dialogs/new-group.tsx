import { useState } from 'preact/hooks';
import type { User } from '../../core/index.js';
import { chat } from '../client.js';
import { Combobox } from '../combobox.js';
import { Dialog } from '../dialog.js';
import { FormError, useAction } from '../forms.js';
import { navigate, roomHref } from '../router.js';
import { userOptions } from './user-search.js';

export function NewGroupDialog(props: { onClose: () => void }) {
  const [name, setName] = useState('');
  const [isPublic, setPublic] = useState(true);
  const [encrypted, setEncrypted] = useState(false);
  const canEncrypt = chat.encryption.status.value !== 'unavailable';
  const [people, setPeople] = useState<User[]>([]);
  const { error, busy, run, setError } = useAction();

  const create = async (e: Event) => {
    e.preventDefault();
    if (!name.trim()) return setError('Give the group a name.');
    await run(async () => {
      const room = await chat.createGroup({ name: name.trim(), is_public: isPublic, members: people.map((p) => p.id), ...(encrypted ? { is_encrypted: true } : {}) });
      props.onClose();
      navigate(roomHref(room.id));
    });
  };

  return (
    <Dialog title="New group" onClose={props.onClose}>
      <form onSubmit={create} noValidate>
        <div class="field">
          <label for="group-name">Name</label>
          <input id="group-name" type="text" maxLength={255} value={name} autoFocus onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </div>
        <div class="check">
          <input id="group-public" type="checkbox" checked={isPublic} onChange={(e) => setPublic((e.target as HTMLInputElement).checked)} />
          <label for="group-public">Public</label>
          <span class="hint"> Anyone on this server can find and join it.</span>
        </div>
        <div class="check">
          <input id="group-e2ee" type="checkbox" checked={encrypted} disabled={!canEncrypt} aria-describedby="group-e2ee-hint" onChange={(e) => setEncrypted((e.target as HTMLInputElement).checked)} />
          <label for="group-e2ee">End-to-end encrypted</label>
          <span class="hint" id="group-e2ee-hint">
            {' '}
            {canEncrypt ? 'Only the members’ devices can read it, from when they join; it cannot be turned off, and search leaves it out.' : 'This browser cannot encrypt (no IndexedDB).'}
          </span>
        </div>
        <Combobox
          label="Add people"
          placeholder="Type a username"
          search={(text) => userOptions(text, new Set(people.map((p) => p.id)))}
          onPick={(user) => setPeople((list) => (list.some((p) => p.id === user.id) ? list : [...list, user]))}
        />
        {people.length > 0 && (
          <ul class="chips" aria-label="People to add">
            {people.map((p) => (
              <li key={p.id}>
                <span>{p.username}</span>
                <button type="button" class="icon-button" aria-label={`Remove ${p.username}`} onClick={() => setPeople((list) => list.filter((x) => x.id !== p.id))}>
                  ×
                </button>
              </li>
            ))}
          </ul>
        )}
        <FormError error={error} />
        <div class="dialog-actions">
          <button type="submit" class="primary" disabled={busy}>
            Create
          </button>
        </div>
      </form>
    </Dialog>
  );
}
