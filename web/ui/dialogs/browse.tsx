import { useEffect, useState } from 'preact/hooks';
import type { Room } from '../../core/index.js';
import { attempt } from '../alerts.js';
import { chat } from '../client.js';
import { Dialog } from '../dialog.js';
import { navigate, roomHref } from '../router.js';

/** Public groups on the server, to open (if you are in them) or join. */
export function BrowseDialog(props: { onClose: () => void }) {
  const [rooms, setRooms] = useState<Room[] | null>(null);
  const [page, setPage] = useState(1);
  const [more, setMore] = useState(false);
  useEffect(() => {
    void attempt(async () => {
      const p = await chat.publicGroups(page);
      const groups = p.results.filter((r) => r.room_type === 'group' && r.is_public);
      setRooms((list) => [...(page === 1 ? [] : (list ?? [])), ...groups]);
      setMore(p.next !== null);
    });
  }, [page]);
  const joined = chat.store.conversations.value;
  return (
    <Dialog title="Browse groups" onClose={props.onClose}>
      {!rooms ? (
        <p class="hint">Loading…</p>
      ) : rooms.length === 0 ? (
        <p class="hint">No public groups yet. Create one with New group.</p>
      ) : (
        <ul class="room-list">
          {rooms.map((r) => (
            <li key={r.id} class="room-row">
              <span class="room-row-name">{r.name || 'Unnamed group'}</span>
              <span class="hint">
                {r.member_count} {r.member_count === 1 ? 'member' : 'members'}
              </span>
              {joined.has(r.id) ? (
                <button
                  type="button"
                  onClick={() => {
                    props.onClose();
                    navigate(roomHref(r.id));
                  }}
                >
                  Open {r.name}
                </button>
              ) : (
                <button
                  type="button"
                  class="primary"
                  onClick={() =>
                    void attempt(async () => {
                      await chat.join(r.id);
                      props.onClose();
                      navigate(roomHref(r.id));
                    })
                  }
                >
                  Join {r.name}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {more && (
        <button type="button" onClick={() => setPage(page + 1)}>
          Show more
        </button>
      )}
    </Dialog>
  );
}
