import { useEffect, useState } from 'preact/hooks';
import type { User } from '../../core/index.js';
import { attempt } from '../alerts.js';
import { chat } from '../client.js';
import { Combobox } from '../combobox.js';
import { Dialog } from '../dialog.js';
import { whenShort } from '../format.js';
import { FormError, useAction } from '../forms.js';
import { userOptions } from './user-search.js';

/** Bans a user, with an optional reason, after asking: a member (removed at once), or anyone else (kept out). */
export function BanDialog(props: { user: number; username: string; member: boolean; group: string; roomId: number; onClose: () => void }) {
  const [reason, setReason] = useState('');
  const { error, busy, run } = useAction();
  const ban = async (e: Event) => {
    e.preventDefault();
    if (await run(() => chat.team.ban(props.roomId, props.user, reason))) props.onClose();
  };
  return (
    <Dialog title={`Ban ${props.username}?`} onClose={props.onClose}>
      <form onSubmit={ban} noValidate>
        <p>
          {props.member ? `They are removed from ${props.group} and cannot join again` : `They cannot join ${props.group}`}, be added or use an invite until they are unbanned.
        </p>
        <div class="field">
          <label for="ban-reason">Reason (optional)</label>
          <input id="ban-reason" type="text" maxLength={500} value={reason} autoFocus onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
        </div>
        <FormError error={error} />
        <div class="dialog-actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="danger" disabled={busy}>
            Ban
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/**
 * Who is banned from a group, why and by whom, with Unban; and Ban someone, who need not be a
 * member: someone who spams public groups is kept out before they join (the owner and admins).
 */
export function BansDialog(props: { roomId: number; group: string; onClose: () => void }) {
  const { roomId } = props;
  const bans = chat.store.bansOf(roomId).value;
  const [banning, setBanning] = useState<User | null>(null);
  useEffect(() => {
    void attempt(() => chat.team.loadBans(roomId));
  }, [roomId]);
  const members = chat.store.membersOf(roomId).value;
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
      <Combobox label="Ban someone" placeholder="Type a username" search={(text) => userOptions(text, new Set((bans ?? []).map((b) => b.user)))} onPick={setBanning} />
      {banning && (
        <BanDialog
          user={banning.id}
          username={banning.username}
          member={!!members?.some((m) => m.user === banning.id)}
          group={props.group}
          roomId={roomId}
          onClose={() => setBanning(null)}
        />
      )}
    </Dialog>
  );
}
