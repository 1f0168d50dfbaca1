// Errors the user should see, as role="alert" messages that can be dismissed; also what an
// unexpected exception turns into (never a blank screen or a silent console).
import { signal } from '@preact/signals';
import { messageOf } from '../core/index.js';

interface Alert {
  id: number;
  text: string;
}

const alerts = signal<Alert[]>([]);
let nextId = 1;

export function showError(err: unknown): void {
  showAlert(messageOf(err));
}

/** A message the user must see (not an error of theirs: something that happened), until dismissed. */
export function showAlert(text: string): void {
  if (alerts.value.some((a) => a.text === text)) return;
  alerts.value = [...alerts.value, { id: nextId++, text }].slice(-3);
}

export function clearAlerts(): void {
  alerts.value = [];
}

/** Runs an action from a click or a key, showing its failure instead of throwing it. */
export function attempt<T>(fn: () => Promise<T>): Promise<T | undefined> {
  return fn().catch((err) => {
    showError(err);
    return undefined;
  });
}

export function Alerts() {
  if (!alerts.value.length) return null;
  return (
    <div class="alerts">
      {alerts.value.map((a) => (
        <div role="alert" class="alert" key={a.id}>
          <span class="alert-text">{a.text}</span>
          <button type="button" class="icon-button" aria-label="Dismiss" onClick={() => (alerts.value = alerts.value.filter((x) => x.id !== a.id))}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
