import { Dialog } from '../dialog.js';
import { FormError, useAction } from '../forms.js';

/** Asks before doing something that matters (a danger unless `safe`); shows the failure if it fails. */
export function ConfirmDialog(props: { title: string; body: string; confirm: string; safe?: boolean; onConfirm: () => Promise<unknown>; onClose: () => void }) {
  const { error, busy, run } = useAction();
  const confirm = async () => {
    if (await run(props.onConfirm)) props.onClose();
  };
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <p>{props.body}</p>
      <FormError error={error} />
      <div class="dialog-actions">
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
        <button type="button" class={props.safe ? 'primary' : 'danger'} disabled={busy} onClick={() => void confirm()} autoFocus>
          {props.confirm}
        </button>
      </div>
    </Dialog>
  );
}
