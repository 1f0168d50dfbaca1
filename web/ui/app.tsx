import { useEffect } from 'preact/hooks';
import { Alerts } from './alerts.js';
import { LoginPage, SignupPage } from './auth.js';
import { chat } from './client.js';
import { navigate, route } from './router.js';
import { Shell } from './shell.js';
import { endedNotice } from './session-ui.js';

export function App() {
  const status = chat.session.status.value;
  const r = route.value;
  useEffect(() => {
    if (status === 'authenticated' && (r.name === 'login' || r.name === 'signup')) navigate('#/');
  }, [status, r.name]);
  return (
    <>
      {status === 'unknown' ? (
        <main class="auth">
          <p class="hint">Loading…</p>
        </main>
      ) : status === 'anonymous' ? (
        r.name === 'signup' ? <SignupPage /> : <LoginPage notice={endedNotice.value} />
      ) : (
        <Shell />
      )}
      <Alerts />
    </>
  );
}
