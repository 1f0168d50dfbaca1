// The page's one chat client: drafts in localStorage, the outbox in sessionStorage (per tab,
// kept across a reload).
import { ChatClient } from '../core/index.js';

export const chat = new ChatClient({ storage: localStorage, tabStorage: sessionStorage });
