// "Your devices": the signed-in user's browsers set up for end-to-end encryption, this one marked,
// each with when it was added and a short key fingerprint to compare between them; any other one
// can be removed (confirmed first). Opened from the sidebar's Devices button, and from a "You
// added a new device" notice in a conversation (devices-state.ts).
import { useEffect, useState } from 'preact/hooks';
import { messageOf, type OwnDevice } from '../../core/index.js';
import { chat } from '../client.js';
import { Dialog } from '../dialog.js';
import { FormError } from '../forms.js';
import { dateTimeOf } from '../format.js';
import { ConfirmDialog } from './confirm.js';

/** How a device is named on buttons and in the confirmation: its browser and its id (two browsers may share a name). */
export function deviceLabel(d: Pick<OwnDevice, 'display_name' | 'device_id'>): string {
  return `${d.display_name || 'Browser'} (device ${d.device_id})`;
}

export function DevicesDialog(props: { onClose: () => void }) {
  const [devices, setDevices] = useState<OwnDevice[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [removing, setRemoving] = useState<OwnDevice | null>(null);
  // Read again when one of your devices comes or goes elsewhere, and when this browser's device changes.
  const changes = chat.encryption.ownDevicesChanged.value;
  const mine = chat.encryption.deviceId.value;
  useEffect(() => {
    let live = true;
    chat.encryption.ownDevices().then(
      (list) => {
        if (!live) return;
        setDevices([...list.filter((d) => d.current), ...list.filter((d) => !d.current)]);
        setError(null);
      },
      (err) => live && setError(messageOf(err)),
    );
    return () => {
      live = false;
    };
  }, [changes, mine]);

  return (
    <Dialog title="Your devices" onClose={props.onClose} class="devices-dialog">
      <p>
        Each browser you use for encrypted conversations is a device with keys of its own. Remove one you do not recognise or no longer use: it then gets no
        keys to new messages. To be sure a device listed here is your other browser, compare its key fingerprint with the one that browser shows for itself
        here.
      </p>
      <FormError error={error} />
      {devices === null ? (
        !error && <p class="hint">Loading your devices…</p>
      ) : (
        <ul class="safety-list devices-list" aria-label="Devices">
          {devices.map((d) => {
            const label = deviceLabel(d);
            return (
              <li key={d.device_id} class={d.current ? 'current' : undefined}>
                <p class="device-name">
                  <strong>{d.display_name || 'Browser'}</strong>
                  {d.current && <span class="this-browser">This browser</span>}
                </p>
                <p class="hint">
                  {d.created_at ? `Added ${dateTimeOf(d.created_at)} · ` : ''}device {d.device_id}
                </p>
                <p class="key-fingerprint" role="group" aria-label={`Key fingerprint of ${label}`}>
                  {d.fingerprint.split(' ').map((g, i) => (
                    <span key={i}>{g}</span>
                  ))}
                </p>
                {d.mismatch && (
                  <p class="danger-text">The server lists other keys for this browser than the ones it holds. Someone may be trying to read your messages.</p>
                )}
                {!d.listed && <p class="hint">The server does not list this browser yet: it is registered as soon as the server can be reached.</p>}
                {!d.current && (
                  <button type="button" class="danger" aria-label={`Remove ${label}`} onClick={() => setRemoving(d)}>
                    Remove
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
      <div class="dialog-actions">
        <button type="button" onClick={props.onClose}>
          Done
        </button>
      </div>
      {removing && (
        <ConfirmDialog
          title={`Remove ${deviceLabel(removing)}?`}
          body="It gets no keys to new encrypted messages from now on; what it could already read stays readable there. If that browser is still logged in, it makes new keys and shows up here again: to keep it out, also log it out (changing your password logs out every other browser)."
          confirm="Remove device"
          onConfirm={async () => {
            await chat.encryption.removeDevice(removing.device_id);
            setDevices((list) => list && list.filter((x) => x.device_id !== removing.device_id));
          }}
          onClose={() => setRemoving(null)}
        />
      )}
    </Dialog>
  );
}
