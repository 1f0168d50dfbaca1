// Every failure the client meets, as one readable error: HTTP errors keep their status and the
// server's words; a network failure is status 0.

export type FieldErrors = Record<string, string[]>;

const LABELS: Record<string, string> = {
  non_field_errors: '',
  detail: '',
  username: 'Username',
  email: 'Email',
  password: 'Password',
  content: 'Message',
  file: 'File',
  name: 'Name',
  members: 'People',
  user: 'User',
  // The search text: its messages read on their own.
  q: '',
};

function label(field: string): string {
  if (field in LABELS) return LABELS[field];
  const words = field.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export class ApiError extends Error {
  constructor(
    /** HTTP status; 0 when the server could not be reached. */
    readonly status: number,
    message: string,
    readonly code: string | null = null,
    readonly fields: FieldErrors | null = null,
    /** Seconds, from Retry-After (429). */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The server could not be reached (offline, connection reset): worth retrying later. */
  get isNetwork(): boolean {
    return this.status === 0;
  }

  /** Worth retrying the same request later (network, rate limit, server trouble). */
  get isTransient(): boolean {
    return this.status === 0 || this.status === 429 || this.status === 502 || this.status === 503 || this.status === 504 || this.status === 500;
  }
}

/** Builds the error from a JSON error body (`{"detail"}` or DRF-style field lists). */
export function errorFromBody(status: number, body: unknown, retryAfter: string | null): ApiError {
  const retry = retryAfter !== null && /^\d+$/.test(retryAfter) ? Number(retryAfter) : null;
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const obj = body as Record<string, unknown>;
    if (typeof obj.detail === 'string') return new ApiError(status, obj.detail, typeof obj.code === 'string' ? obj.code : null, null, retry);
    const fields: FieldErrors = {};
    for (const [k, v] of Object.entries(obj)) {
      if (Array.isArray(v)) fields[k] = v.map(String);
      else if (typeof v === 'string') fields[k] = [v];
    }
    const parts = Object.entries(fields).map(([k, msgs]) => (label(k) ? `${label(k)}: ${msgs.join(' ')}` : msgs.join(' ')));
    if (parts.length) return new ApiError(status, parts.join('\n'), 'invalid', fields, retry);
  }
  return new ApiError(status, statusText(status), null, null, retry);
}

function statusText(status: number): string {
  if (status === 401) return 'Your session has ended. Please log in again.';
  if (status === 403) return 'You are not allowed to do that.';
  if (status === 404) return 'Not found.';
  if (status === 413) return 'That is too large for this server.';
  if (status === 429) return 'Too many requests. Please wait a moment.';
  if (status >= 500) return 'The server had a problem. Please try again.';
  return `The request failed (${status}).`;
}

export const networkError = () => new ApiError(0, 'Cannot reach the server. Check your connection.', 'network');

/** A readable sentence for anything thrown. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error && err.message) return err.message;
  return 'Something went wrong.';
}
