import { useEffect, useState } from 'preact/hooks';
import type { DeviceSafety } from '../../core/index.js';
import { attempt } from '../alerts.js';
import { chat } from '../client.js';
import { Dialog } from '../dialog.js';
import { FormError, useAction } from '../forms.js';

/**
 * A contact's devices, each with the safety number it shares with this browser: the same 60
 * digits show on their screen for this device. Matching numbers mean no one (the server
 * included) has put keys of its own between you. A device whose keys changed can be accepted here.
 */
export function VerifyDialog(props: { user: number; username: string; onClose: () => void }) {
  const [devices, setDevices] = useState<DeviceSafety[] | null>(null);
  const { error, run } = useAction();
  const warnings = chat.encryption.warnings.value.filter((w) => w.user === props.user);
  useEffect(() => {
    void run(async () => setDevices(await chat.encryption.safety(props.user)));
  }, [props.user, warnings.length]);
  const mine = chat.encryption.deviceId.value;
  return (
    <Dialog title={`Verify ${props.username}`} onClose={props.onClose} class="verify-dialog">
      <p>
        Compare these numbers with {props.username} in person, or on a call where you recognise each other: their screen shows the same numbers for this
        browser. If they match, nobody can read your encrypted messages in between, the server included.
      </p>
      <FormError error={error} />
      {devices === null ? (
        !error && <p class="hint">Computing safety numbers…</p>
      ) : devices.length === 0 ? (
        <p class="hint">{props.username} has no browser set up for encrypted conversations yet.</p>
      ) : (
        <ul class="safety-list" aria-label={`Devices of ${props.username}`}>
          {devices.map((d) => {
            const name = d.display_name || 'Browser';
            const warning = warnings.find((w) => w.device_id === d.device_id);
            const changed = d.trust === 'changed' || !!warning;
            return (
              <li key={d.device_id} class={changed ? 'changed' : undefined}>
                <p class="device-name">
                  <strong>{name}</strong> <span class="hint">device {d.device_id}</span>
                  {d.trust === 'new' && <span class="hint"> · no keys exchanged yet</span>}
                  {changed && <span class="danger-text"> · keys changed</span>}
                </p>
                <p class="safety-number" role="group" aria-label={`Safety number with ${name} of ${props.username}`}>
                  {d.safety_number.split(' ').map((g, i) => (
                    <span key={i}>{g}</span>
                  ))}
                </p>
                {warning && (
                  <button type="button" class="danger" onClick={() => void attempt(() => chat.encryption.acceptIdentity(warning))}>
                    Accept new keys
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {mine && <p class="hint">This browser is device {mine}.</p>}
      <div class="dialog-actions">
        <button type="button" onClick={props.onClose}>
          Done
        </button>
      </div>
    </Dialog>
  );
}
