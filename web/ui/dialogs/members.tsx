import { useEffect } from 'preact/hooks';
import type { Membership } from '../../core/index.js';
import { attempt } from '../alerts.js';
import { chat } from '../client.js';
import { Combobox } from '../combobox.js';
import { Dialog } from '../dialog.js';
import { userOptions } from './user-search.js';

/** Who is in the conversation, whether they are online, and (groups) adding people. */
export function MembersDialog(props: { conv: Membership; onClose: () => void }) {
  const roomId = props.conv.chat_room;
  const members = chat.store.membersOf(roomId).value;
  const presence = chat.store.presence.value;
  const me = chat.store.me.value;
  useEffect(() => {
    void attempt(() => chat.loadMembers(roomId));
  }, [roomId]);
  const present = new Set((members ?? []).map((m) => m.user));
  return (
    <Dialog title="Members" onClose={props.onClose}>
      {!members ? (
        <p class="hint">Loading…</p>
      ) : (
        <ul class="member-list" aria-label="Members">
          {members.map((m) => {
            const online = presence.get(m.user) === 'online';
            return (
              <li key={m.user} class="member">
                <span class={`dot${online ? ' online' : ''}`} aria-hidden="true" />
                <span class="member-name">{m.username}</span>
                {m.user === me && <span class="hint"> (you)</span>}
                <span class="sr-only">, {online ? 'online' : 'offline'}</span>
                {m.role !== 'member' && <span class="role">{m.role}</span>}
              </li>
            );
          })}
        </ul>
      )}
      {props.conv.room_type === 'group' && (
        <Combobox
          label="Add people"
          placeholder="Type a username"
          search={(text) => userOptions(text, present)}
          onPick={(user) => void attempt(() => chat.addMember(roomId, user.id))}
        />
      )}
    </Dialog>
  );
}
