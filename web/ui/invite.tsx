// #/invite/<code>: the group an invite link leads to, and Join. A link that cannot be used (404)
// or a banned user (403) sees the server's words as an alert.
import { useEffect, useState } from 'preact/hooks';
import { messageOf, type InvitePreview } from '../core/index.js';
import { chat } from './client.js';
import { FormError, useAction } from './forms.js';
import { navigate, roomHref } from './router.js';

export function InvitePage(props: { code: string }) {
  const [preview, setPreview] = useState<InvitePreview | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const { error, busy, run } = useAction();
  useEffect(() => {
    let live = true;
    chat.team.invite(props.code).then(
      (p) => live && setPreview(p),
      (err) => live && setFailed(messageOf(err)),
    );
    return () => {
      live = false;
    };
  }, [props.code]);

  const room = preview?.chat_room;
  const joined = room && chat.store.conversations.value.has(room.id);
  const join = () =>
    void run(async () => {
      const m = await chat.team.acceptInvite(props.code);
      navigate(roomHref(m.chat_room));
    });
  return (
    <section class="conversation-pane empty invite-page" aria-labelledby={room ? 'invite-title' : undefined}>
      <a href="#/" class="back" aria-label="All conversations">
        ‹
      </a>
      {failed ? (
        <FormError error={failed} />
      ) : !room ? (
        <p class="hint">Loading the invitation…</p>
      ) : (
        <div class="invite-card">
          <p class="hint">You are invited to join</p>
          <h1 id="invite-title">{room.name || 'Unnamed group'}</h1>
          <p class="hint">
            {room.member_count} {room.member_count === 1 ? 'member' : 'members'}
          </p>
          <FormError error={error} />
          {joined ? (
            <p>
              You are in this group already. <a href={roomHref(room.id)}>Open {room.name}</a>
            </p>
          ) : (
            <button type="button" class="primary" disabled={busy} onClick={join}>
              Join {room.name}
            </button>
          )}
        </div>
      )}
      <p>
        <a href="#/">Back to your conversations</a>
      </p>
    </section>
  );
}
