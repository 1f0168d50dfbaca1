// Running a form's action: one at a time, its failure shown in role="alert" beside the form.
import { useState } from 'preact/hooks';
import { messageOf } from '../core/index.js';

export function useAction() {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  /** Runs `fn` unless one is running; true when it succeeded. */
  const run = async (fn: () => Promise<unknown>): Promise<boolean> => {
    if (busy) return false;
    setBusy(true);
    setError(null);
    try {
      await fn();
      return true;
    } catch (err) {
      setError(messageOf(err));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, run, setError };
}

export function FormError(props: { error: string | null }) {
  if (!props.error) return null;
  return (
    <p role="alert" class="form-error">
      {props.error}
    </p>
  );
}
