import type { User } from '../../core/index.js';
import { chat } from '../client.js';
import type { Option } from '../combobox.js';

/** Other users matching the text, as combobox options (username, then the full name). */
export async function userOptions(text: string, exclude: Set<number> = new Set()): Promise<Option<User>[]> {
  const me = chat.store.me.value;
  const users = await chat.searchUsers(text);
  return users
    .filter((u) => u.id !== me && !exclude.has(u.id))
    .map((u) => ({ key: u.id, label: u.username, detail: [u.first_name, u.last_name].filter(Boolean).join(' ') || undefined, value: u }));
}
