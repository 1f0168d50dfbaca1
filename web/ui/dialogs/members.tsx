import { useEffect, useState } from 'preact/hooks';
import { displayName, type Member, type Membership, type Role } from '../../core/index.js';
import { attempt } from '../alerts.js';
import { chat } from '../client.js';
import { Combobox } from '../combobox.js';
import { Dialog } from '../dialog.js';
import { BanDialog } from './bans.js';
import { ConfirmDialog } from './confirm.js';
import { userOptions } from './user-search.js';

type Action = 'make-admin' | 'make-member' | 'make-owner' | 'remove' | 'ban';

const LABELS: Record<Action, string> = { 'make-admin': 'Make admin', 'make-member': 'Make member', 'make-owner': 'Make owner', remove: 'Remove', ban: 'Ban' };

/** What `viewer` may do to `target`: the owner anything to anyone else; an admin remove or ban plain members. */
export function actionsFor(viewer: Role, target: Member, me: number | null): Action[] {
  if (target.user === me) return [];
  if (viewer === 'owner') return [target.role === 'admin' ? 'make-member' : 'make-admin', 'make-owner', 'remove', 'ban'];
  if (viewer === 'admin' && target.role === 'member') return ['remove', 'ban'];
  return [];
}

/**
 * Who is in the conversation, online or not, and their roles; in groups, adding people, and for
 * the owner and admins what each may do to the others (roles, remove, ban), the ban list and
 * invite links.
 */
export function MembersDialog(props: { conv: Membership; onClose: () => void; onOpen: (what: 'invites' | 'bans') => void; onVerify: (user: number) => void }) {
  const roomId = props.conv.chat_room;
  const members = chat.store.membersOf(roomId).value;
  const presence = chat.store.presence.value;
  const me = chat.store.me.value;
  const group = props.conv.room_type === 'group';
  const viewer = group ? props.conv.role : 'member';
  const [managing, setManaging] = useState<number | null>(null);
  const [asking, setAsking] = useState<{ action: Action; member: Member } | null>(null);
  const [encrypting, setEncrypting] = useState(false);
  const encrypted = !!props.conv.is_encrypted;
  useEffect(() => {
    void attempt(() => chat.loadMembers(roomId));
  }, [roomId]);
  const present = new Set((members ?? []).map((m) => m.user));
  const name = displayName(props.conv);

  const act = (action: Action, m: Member) => {
    if (action === 'make-admin' || action === 'make-member') void attempt(() => chat.team.setRole(roomId, m.user, action === 'make-admin' ? 'admin' : 'member'));
    else setAsking({ action, member: m });
  };
  const close = () => setAsking(null);

  return (
    <Dialog title="Members" onClose={props.onClose}>
      {viewer !== 'member' && (
        <div class="dialog-actions start">
          <button type="button" onClick={() => props.onOpen('invites')}>
            Invite links
          </button>
          <button type="button" onClick={() => props.onOpen('bans')}>
            Ban list
          </button>
        </div>
      )}
      {!members ? (
        <p class="hint">Loading…</p>
      ) : (
        <ul class="member-list" aria-label="Members" tabIndex={-1}>
          {members.map((m) => {
            const online = presence.get(m.user) === 'online';
            const actions = actionsFor(viewer, m, me);
            const open = managing === m.user && actions.length > 0;
            return (
              <li key={m.user} class="member">
                <div class="member-row">
                  <span class={`dot${online ? ' online' : ''}`} aria-hidden="true" />
                  <span class="member-name">{m.username}</span>
                  {m.user === me && <span class="hint"> (you)</span>}
                  <span class="sr-only">, {online ? 'online' : 'offline'}, </span>
                  {group && <span class={`role role-${m.role}`}>{m.role}</span>}
                  {encrypted && m.user !== me && (
                    <button type="button" class="manage" aria-label={`Verify ${m.username}`} onClick={() => props.onVerify(m.user)}>
                      Verify
                    </button>
                  )}
                  {actions.length > 0 && (
                    <button type="button" class="manage" aria-label={`Manage ${m.username}`} aria-expanded={open} onClick={() => setManaging(open ? null : m.user)}>
                      Manage
                    </button>
                  )}
                </div>
                {open && (
                  <div class="member-actions" role="group" aria-label={`Manage ${m.username}`}>
                    {actions.map((a) => (
                      <button type="button" key={a} class={a === 'ban' || a === 'remove' ? 'danger-text' : undefined} onClick={() => act(a, m)}>
                        {LABELS[a]}
                      </button>
                    ))}
                  </div>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {encrypted ? (
        <p class="hint e2ee-note">End-to-end encrypted: only the members’ browsers can read what is sent here. Verify a member to compare safety numbers.</p>
      ) : (
        chat.canEnableEncryption(roomId) && (
          <div class="dialog-actions start">
            <button type="button" onClick={() => setEncrypting(true)} disabled={chat.encryption.status.value === 'unavailable'}>
              Turn on end-to-end encryption
            </button>
          </div>
        )
      )}
      {group && (
        <Combobox
          label="Add people"
          placeholder="Type a username"
          search={(text) => userOptions(text, present)}
          onPick={(user) => void attempt(() => chat.addMember(roomId, user.id))}
        />
      )}
      {asking?.action === 'make-owner' && (
        <ConfirmDialog
          title={`Make ${asking.member.username} the owner?`}
          body={`This transfers the ownership of ${name}: you become an admin, and only ${asking.member.username} can change roles.`}
          confirm="Make owner"
          onConfirm={() => chat.team.setRole(roomId, asking.member.user, 'owner')}
          onClose={close}
        />
      )}
      {asking?.action === 'remove' && (
        <ConfirmDialog
          title={`Remove ${asking.member.username}?`}
          body={`They stop receiving the messages of ${name}. They can come back if they are added again, join it (public groups) or use an invite.`}
          confirm="Remove"
          onConfirm={() => chat.team.remove(roomId, asking.member.user)}
          onClose={close}
        />
      )}
      {encrypting && (
        <ConfirmDialog
          title="Turn on end-to-end encryption?"
          body={`From now on, messages and files in ${name} are encrypted in the members’ browsers and the server cannot read them. It cannot be turned off. Earlier messages stay as they were, search leaves the conversation out, and people who join later read only what is sent after they join.`}
          confirm="Turn on encryption"
          safe
          onConfirm={() => chat.enableEncryption(roomId)}
          onClose={() => setEncrypting(false)}
        />
      )}
      {asking?.action === 'ban' && <BanDialog user={asking.member.user} username={asking.member.username} member group={name} roomId={roomId} onClose={close} />}
    </Dialog>
  );
}
