// Staff tools (the /api/admin/ routes; everyone else gets 403): the server's figures, every
// account with deactivation, and deleting any message.
import type { Api } from './http.js';
import type { AdminStats, AdminUser, Page } from './types.js';

export class Admin {
  constructor(private readonly api: Api) {}

  stats(): Promise<AdminStats> {
    return this.api.get<AdminStats>('/api/admin/stats/');
  }

  /** A page of accounts (deactivated ones too) matching `search`. */
  users(search = '', page = 1): Promise<Page<AdminUser>> {
    return this.api.get<Page<AdminUser>>('/api/admin/users/', { search, page });
  }

  /** Logs the user out everywhere and refuses their log-ins until reactivated. */
  deactivate(userId: number): Promise<AdminUser> {
    return this.api.post<AdminUser>(`/api/admin/users/${userId}/deactivate/`);
  }

  reactivate(userId: number): Promise<AdminUser> {
    return this.api.post<AdminUser>(`/api/admin/users/${userId}/reactivate/`);
  }

  async deleteMessage(messageId: number): Promise<void> {
    await this.api.delete(`/api/admin/messages/${messageId}/`);
  }
}
