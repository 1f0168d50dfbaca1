import { useEffect, useRef, useState } from 'preact/hooks';
import { inviteLink, type Invite } from '../../core/index.js';
import { attempt } from '../alerts.js';
import { chat } from '../client.js';
import { Dialog } from '../dialog.js';
import { dateTimeOf } from '../format.js';
import { FormError, useAction } from '../forms.js';

const EXPIRY: Array<[string, number]> = [
  ['Never', 0],
  ['1 hour', 3_600],
  ['1 day', 86_400],
  ['7 days', 7 * 86_400],
  ['30 days', 30 * 86_400],
];

function usage(i: Invite): string {
  const uses = i.max_uses ? `Used ${i.uses} of ${i.max_uses} ${i.max_uses === 1 ? 'time' : 'times'}` : `Used ${i.uses} ${i.uses === 1 ? 'time' : 'times'}`;
  return `${uses} · ${i.expires_at ? `expires ${dateTimeOf(i.expires_at)}` : 'never expires'}`;
}

function InviteItem(props: { invite: Invite; onRevoke: () => void }) {
  const url = inviteLink(location.origin, props.invite.code);
  const input = useRef<HTMLInputElement>(null);
  const [note, setNote] = useState('');
  useEffect(() => {
    if (!note) return;
    const t = setTimeout(() => setNote(''), 4_000);
    return () => clearTimeout(t);
  }, [note]);
  const copy = async () => {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(url);
      setNote('Copied');
    } catch {
      // No clipboard access (an insecure page, a refusal): the link is selected for copying by hand.
      input.current?.focus();
      input.current?.select();
      setNote('Selected: press Ctrl+C to copy');
    }
  };
  return (
    <li class="invite">
      <div class="invite-row">
        <input ref={input} type="text" class="invite-url" readOnly value={url} aria-label="Invite link" onFocus={(e) => (e.target as HTMLInputElement).select()} />
        <button type="button" onClick={() => void copy()}>
          Copy link
        </button>
        <button type="button" class="danger-text" onClick={props.onRevoke}>
          Revoke
        </button>
      </div>
      <div class="invite-row">
        <span class="hint invite-usage">{usage(props.invite)}</span>
        <span role="status" class="copied">
          {note}
        </span>
      </div>
    </li>
  );
}

/** A group's invite links: create one (optionally limited in uses and time), copy, revoke (the owner and admins). */
export function InvitesDialog(props: { roomId: number; onClose: () => void }) {
  const { roomId } = props;
  const [invites, setInvites] = useState<Invite[] | null>(null);
  const [maxUses, setMaxUses] = useState('');
  const [expiresIn, setExpiresIn] = useState(0);
  const { error, busy, run, setError } = useAction();
  useEffect(() => {
    void attempt(async () => setInvites(await chat.team.invites(roomId)));
  }, [roomId]);

  const create = async (e: Event) => {
    e.preventDefault();
    const uses = maxUses.trim() ? Number(maxUses) : null;
    if (uses !== null && !(Number.isInteger(uses) && uses > 0)) return setError('Max uses: a whole number above 0, or empty for no limit.');
    await run(async () => {
      const invite = await chat.team.createInvite(roomId, { maxUses: uses, expiresIn });
      setInvites((list) => [invite, ...(list ?? [])]);
    });
  };
  const revoke = (code: string) =>
    void attempt(async () => {
      await chat.team.revokeInvite(roomId, code);
      setInvites((list) => (list ?? []).filter((i) => i.code !== code));
    });

  return (
    <Dialog title="Invite links" onClose={props.onClose}>
      <p class="hint">Anyone with a link can join this group until it expires, is used up or is revoked.</p>
      <form class="invite-form" onSubmit={create} noValidate>
        <div class="field">
          <label for="invite-uses">Max uses</label>
          <input id="invite-uses" type="number" min={1} inputMode="numeric" placeholder="No limit" value={maxUses} onInput={(e) => setMaxUses((e.target as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for="invite-expiry">Expires after</label>
          <select id="invite-expiry" value={String(expiresIn)} onChange={(e) => setExpiresIn(Number((e.target as HTMLSelectElement).value))}>
            {EXPIRY.map(([label, seconds]) => (
              <option key={seconds} value={String(seconds)}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="primary" disabled={busy}>
          Create link
        </button>
      </form>
      <FormError error={error} />
      {!invites ? (
        <p class="hint">Loading…</p>
      ) : invites.length === 0 ? (
        <p class="hint">No invite links yet.</p>
      ) : (
        <ul class="invite-list" aria-label="Active invite links" tabIndex={-1}>
          {invites.map((i) => (
            <InviteItem key={i.code} invite={i} onRevoke={() => revoke(i.code)} />
          ))}
        </ul>
      )}
    </Dialog>
  );
}
