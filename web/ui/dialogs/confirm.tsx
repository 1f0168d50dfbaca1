import { useState } from 'preact/hooks';
import { messageOf } from '../../core/index.js';
import { Dialog } from '../dialog.js';

/** Asks before doing something that cannot be undone; shows the failure if it fails. */
export function ConfirmDialog(props: { title: string; body: string; confirm: string; onConfirm: () => Promise<unknown>; onClose: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      await props.onConfirm();
      props.onClose();
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  };
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <p>{props.body}</p>
      {error && (
        <p role="alert" class="form-error">
          {error}
        </p>
      )}
      <div class="dialog-actions">
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
        <button type="button" class="danger" disabled={busy} onClick={() => void run()} autoFocus>
          {props.confirm}
        </button>
      </div>
    </Dialog>
  );
}
