// Log-in and sign-up pages. A refused attempt shows the server's words in role="alert".
import { useState } from 'preact/hooks';
import { chat } from './client.js';
import { FormError, useAction } from './forms.js';

/** Runs the log-in or sign-up; once logged in, the app leaves the log-in page (see App). */
function useSubmit(action: () => Promise<unknown>) {
  const { error, busy, run } = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    await run(action);
  };
  return { error, busy, submit };
}

function Field(props: { label: string; type: string; value: string; onInput: (v: string) => void; autoComplete: string; autoFocus?: boolean; hint?: string }) {
  const id = `field-${props.label.toLowerCase().replace(/\W+/g, '-')}`;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input
        id={id}
        type={props.type}
        // A password field has no implicit role; the contract (and screen-reader users) know it as a textbox.
        role={props.type === 'password' ? 'textbox' : undefined}
        value={props.value}
        required
        autoComplete={props.autoComplete}
        autoFocus={props.autoFocus}
        aria-describedby={props.hint ? `${id}-hint` : undefined}
        onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
      />
      {props.hint && (
        <p class="hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      )}
    </div>
  );
}

function AuthFrame(props: { title: string; children: preact.ComponentChildren }) {
  return (
    <main class="auth">
      <div class="auth-card">
        <p class="brand" aria-hidden="true">
          Chat
        </p>
        <h1>{props.title}</h1>
        {props.children}
      </div>
    </main>
  );
}

export function LoginPage(props: { notice?: string | null }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { error, busy, submit } = useSubmit(() => chat.login(email.trim(), password));
  return (
    <AuthFrame title="Log in">
      {props.notice && !error && <p class="notice">{props.notice}</p>}
      <form onSubmit={submit} noValidate>
        <Field label="Email" type="email" value={email} onInput={setEmail} autoComplete="username" autoFocus />
        <Field label="Password" type="password" value={password} onInput={setPassword} autoComplete="current-password" />
        <FormError error={error} />
        <button type="submit" class="primary" disabled={busy}>
          Log in
        </button>
      </form>
      <p class="switch">
        New here? <a href="#/signup">Create an account</a>
      </p>
    </AuthFrame>
  );
}

export function SignupPage() {
  const [username, setUsername] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { error, busy, submit } = useSubmit(() => chat.signup({ username: username.trim(), email: email.trim(), password }));
  return (
    <AuthFrame title="Create an account">
      <form onSubmit={submit} noValidate>
        <Field label="Username" type="text" value={username} onInput={setUsername} autoComplete="username" autoFocus hint="Letters, digits and @ . + - _ only." />
        <Field label="Email" type="email" value={email} onInput={setEmail} autoComplete="email" />
        <Field label="Password" type="password" value={password} onInput={setPassword} autoComplete="new-password" hint="At least 8 characters, not only digits, not a common password." />
        <FormError error={error} />
        <button type="submit" class="primary" disabled={busy}>
          Sign up
        </button>
      </form>
      <p class="switch">
        Already have an account? <a href="#/login">Log in</a>
      </p>
    </AuthFrame>
  );
}
