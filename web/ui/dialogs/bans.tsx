import { useEffect } from 'preact/hooks';
import { attempt } from '../alerts.js';
import { chat } from '../client.js';
import { Dialog } from '../dialog.js';
import { whenShort } from '../format.js';

/** Who is banned from a group, why and by whom, with Unban (the owner and admins). */
export function BansDialog(props: { roomId: number; onClose: () => void }) {
  const { roomId } = props;
  const bans = chat.store.bansOf(roomId).value;
  useEffect(() => {
    void attempt(() => chat.team.loadBans(roomId));
  }, [roomId]);
  return (
    <Dialog title="Ban list" onClose={props.onClose}>
      {!bans ? (
        <p class="hint">Loading…</p>
      ) : bans.length === 0 ? (
        <p class="hint">Nobody is banned from this group.</p>
      ) : (
        <ul class="member-list" aria-label="Banned people" tabIndex={-1}>
          {bans.map((b) => {
            const by = b.banned_by_username ?? (b.banned_by !== null ? chat.username(b.banned_by) : undefined);
            return (
              <li key={b.user} class="member ban">
                <span class="ban-text">
                  <span class="member-name">{b.username}</span>
                  <span class="hint ban-detail">
                    {b.reason ? `“${b.reason}”` : 'No reason given'}
                    {by ? ` · by ${by}` : ''} · <time dateTime={b.created_at}>{whenShort(b.created_at)}</time>
                  </span>
                </span>
                <button type="button" aria-label={`Unban ${b.username}`} onClick={() => void attempt(() => chat.team.unban(roomId, b.user))}>
                  Unban
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </Dialog>
  );
}
