// #/admin, for staff: the server's figures, every account (search, pages) with Deactivate and
// Reactivate. Everyone else is told the page is not available (the routes answer them 403).
import { useEffect, useState } from 'preact/hooks';
import type { AdminStats, AdminUser } from '../core/index.js';
import { attempt } from './alerts.js';
import { chat } from './client.js';
import { ConfirmDialog } from './dialogs/confirm.js';

function Stats() {
  const [stats, setStats] = useState<AdminStats | null>(null);
  useEffect(() => {
    void attempt(async () => setStats(await chat.admin.stats()));
  }, []);
  const items: Array<[string, keyof AdminStats]> = [
    ['Users', 'users'],
    ['Rooms', 'rooms'],
    ['Messages', 'messages'],
    ['Online now', 'online'],
  ];
  return (
    <section aria-labelledby="stats-title">
      <h3 id="stats-title">Server</h3>
      {!stats ? (
        <p class="hint">Loading…</p>
      ) : (
        <dl class="stats">
          {items.map(([label, key]) => (
            <div key={key} class="stat">
              <dt>{label}</dt>
              <dd>{stats[key].toLocaleString()}</dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}

function Users() {
  const [text, setText] = useState('');
  const [query, setQuery] = useState({ search: '', page: 1 });
  const [result, setResult] = useState<{ count: number; more: boolean; users: AdminUser[] } | null>(null);
  const [asking, setAsking] = useState<AdminUser | null>(null);
  const me = chat.store.me.value;
  useEffect(() => {
    let live = true;
    void attempt(async () => {
      const p = await chat.admin.users(query.search, query.page);
      if (live) setResult({ count: p.count, more: p.next !== null, users: p.results });
    });
    return () => {
      live = false;
    };
  }, [query]);
  const replace = (u: AdminUser) => setResult((r) => r && { ...r, users: r.users.map((x) => (x.id === u.id ? u : x)) });
  return (
    <section aria-labelledby="users-title">
      <h3 id="users-title">Users</h3>
      <form
        role="search"
        class="admin-search"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery({ search: text.trim(), page: 1 });
        }}
      >
        <label for="admin-search" class="sr-only">
          Search users
        </label>
        <input id="admin-search" type="search" placeholder="Username or email" value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        <button type="submit">Search</button>
      </form>
      {!result ? (
        <p class="hint">Loading…</p>
      ) : result.users.length === 0 ? (
        <p class="hint">No user matches “{query.search}”.</p>
      ) : (
        <div class="table-wrap">
          <p class="hint" role="status">
            {result.count} {result.count === 1 ? 'user' : 'users'}
            {query.search ? ` matching “${query.search}”` : ''}
          </p>
          <table class="admin-users" aria-labelledby="users-title">
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Email</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {result.users.map((u) => (
                <tr key={u.id} class={u.is_active ? undefined : 'inactive'}>
                  <th scope="row">
                    {u.username}
                    {u.is_staff && <span class="tag">staff</span>}
                  </th>
                  <td>{u.email}</td>
                  <td>{u.is_active ? 'Active' : 'Deactivated'}</td>
                  <td>
                    {u.id !== me && (
                      <button type="button" class={u.is_active ? 'danger-text' : undefined} aria-label={`${u.is_active ? 'Deactivate' : 'Reactivate'} ${u.username}`} onClick={() => setAsking(u)}>
                        {u.is_active ? 'Deactivate' : 'Reactivate'}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {result && (result.more || query.page > 1) && (
        <nav class="pager" aria-label="Pages of users">
          <button type="button" disabled={query.page <= 1} onClick={() => setQuery({ ...query, page: query.page - 1 })}>
            Previous page
          </button>
          <span>Page {query.page}</span>
          <button type="button" disabled={!result.more} onClick={() => setQuery({ ...query, page: query.page + 1 })}>
            Next page
          </button>
        </nav>
      )}
      {asking &&
        (asking.is_active ? (
          <ConfirmDialog
            title={`Deactivate ${asking.username}?`}
            body="They are logged out everywhere and cannot log in until they are reactivated. Their messages stay."
            confirm="Deactivate"
            onConfirm={async () => replace(await chat.admin.deactivate(asking.id))}
            onClose={() => setAsking(null)}
          />
        ) : (
          <ConfirmDialog
            title={`Reactivate ${asking.username}?`}
            body="They can log in again."
            confirm="Reactivate"
            safe
            onConfirm={async () => replace(await chat.admin.reactivate(asking.id))}
            onClose={() => setAsking(null)}
          />
        ))}
    </section>
  );
}

export function AdminPage() {
  if (!chat.me?.is_staff) {
    return (
      <section class="conversation-pane empty">
        <p>This page is not available.</p>
        <p>
          <a href="#/">Back to your conversations</a>
        </p>
      </section>
    );
  }
  return (
    <section class="conversation-pane admin-page" aria-labelledby="admin-title">
      <header class="room-header">
        <a href="#/" class="back" aria-label="All conversations">
          ‹
        </a>
        <h2 id="admin-title">Admin</h2>
      </header>
      <div class="admin-body">
        <Stats />
        <Users />
      </div>
    </section>
  );
}
