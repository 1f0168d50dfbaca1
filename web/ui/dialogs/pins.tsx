import { useEffect } from 'preact/hooks';
import type { Message } from '../../core/index.js';
import { attempt } from '../alerts.js';
import { chat } from '../client.js';
import { Dialog } from '../dialog.js';
import { attachmentName } from '../e2ee.js';
import { whenShort } from '../format.js';

/** A room's pinned messages, newest pin first, following pins and unpins live; choosing one shows it in the conversation. */
export function PinsDialog(props: { roomId: number; onClose: () => void; onShow: (m: Message) => void }) {
  const pins = chat.store.pinsOf(props.roomId).value;
  const mayPin = chat.canPin(props.roomId);
  useEffect(() => {
    void attempt(() => chat.loadPins(props.roomId));
  }, [props.roomId]);
  return (
    <Dialog title="Pinned messages" onClose={props.onClose}>
      {!pins ? (
        <p class="hint">Loading…</p>
      ) : pins.length === 0 ? (
        <p class="hint">No pinned messages yet.{mayPin ? ' Pin one from its actions to keep it here for everyone.' : ''}</p>
      ) : (
        <ul class="pin-list" aria-label="Pinned messages">
          {pins.map((m) => {
            const who = chat.username(m.sender) ?? m.sender_full_name;
            return (
              <li key={m.id} class="pin">
                <button type="button" class="pin-item" onClick={() => props.onShow(m)}>
                  <span class="pin-top">
                    <span class="sender">{who}</span> <time dateTime={m.created_at}>{whenShort(m.created_at)}</time>
                    {m.thread && <span class="hint"> in a thread</span>}
                  </span>
                  <span class="pin-text">{m.e2ee?.state === 'failed' ? 'Unable to decrypt' : m.content || (attachmentName(m) ? `📎 ${attachmentName(m)}` : '')}</span>
                </button>
                {mayPin && (
                  <button type="button" class="manage" aria-label={`Unpin the message from ${who}`} onClick={() => void attempt(() => chat.setPinned(m, false))}>
                    Unpin
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </Dialog>
  );
}
