import './styles.css';
import { render } from 'preact';
import { showError } from './alerts.js';
import { App } from './app.js';
import { chat } from './client.js';
import { startDesktopIntegration } from './desktop.js';
import './session-ui.js';

// Anything unexpected becomes a readable message, never a blank screen.
addEventListener('unhandledrejection', (e) => {
  e.preventDefault();
  showError(e.reason);
});
addEventListener('error', (e) => {
  if (e.error) showError(e.error);
});
startDesktopIntegration();
render(<App />, document.getElementById('app')!);
chat.restore().catch(showError);
