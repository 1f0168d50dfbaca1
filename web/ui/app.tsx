import { useEffect } from 'preact/hooks';
import { Alerts } from './alerts.js';
import { LoginPage, SignupPage } from './auth.js';
import { chat } from './client.js';
import { afterLogin, navigate, route } from './router.js';
import { Shell } from './shell.js';
import { endedNotice } from './session-ui.js';

export function App() {
  const status = chat.session.status.value;
  const r = route.value;
  // A page that needs a log-in (an invite) is where the log-in leads back to.
  if (status === 'anonymous' && r.name === 'invite') afterLogin.value = location.hash;
  // Logged in: away from the log-in pages (to where the log-in was asked for), and only then (a
  // page opened meanwhile, as an invite link, stays).
  useEffect(() => {
    if (status !== 'authenticated') return;
    if (r.name === 'login' || r.name === 'signup') navigate(afterLogin.value);
    afterLogin.value = '#/';
  }, [status, r.name]);
  return (
    <>
      {status === 'unknown' ? (
        <main class="auth">
          <p class="hint">Loading…</p>
        </main>
      ) : status === 'anonymous' ? (
        r.name === 'signup' ? <SignupPage /> : <LoginPage notice={r.name === 'invite' ? 'Log in to see your invitation.' : endedNotice.value} />
      ) : (
        <Shell />
      )}
      <Alerts />
    </>
  );
}
