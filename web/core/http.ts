// The REST transport: JSON in and out, the bearer token from the session, one refresh and
// retry on a 401, readable errors. Runs in browsers and in Node (fetch is injectable).
import { ApiError, errorFromBody, networkError } from './errors.js';

export type Query = Record<string, string | number | boolean | null | undefined>;

/** Where requests get their bearer token, and how a rejected one is replaced. */
export interface TokenSource {
  token(): Promise<string | null>;
  /** Called after a 401 with the token that was refused; the new token, or null (logged out). */
  renew(refused: string): Promise<string | null>;
}

export interface RequestOptions {
  body?: unknown;
  query?: Query;
  /** false: send no bearer token (public routes). */
  auth?: boolean;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface UploadProgress {
  loaded: number;
  total: number;
}

export interface ApiOptions {
  /** '' in a browser page served by the chat server; `http://host:port` elsewhere. */
  baseUrl: string;
  fetch?: typeof fetch;
  /** Browser pages: cookies of the API's origin go with requests (the refresh cookie). */
  credentials?: RequestCredentials;
}

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

async function readBody(res: Response): Promise<unknown> {
  if (res.status === 204) return null;
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export class Api {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly credentials: RequestCredentials;
  private tokens: TokenSource | null = null;

  constructor(opts: ApiOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.credentials = opts.credentials ?? 'same-origin';
  }

  useTokens(tokens: TokenSource): void {
    this.tokens = tokens;
  }

  url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  /** One HTTP exchange with no token logic: the parsed body, or an ApiError. */
  async raw<T>(method: string, path: string, opts: RequestOptions & { token?: string | null } = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    let body: BodyInit | undefined;
    if (opts.body instanceof FormData) body = opts.body;
    else if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let res: Response;
    try {
      res = await this.fetchImpl(this.url(withQuery(path, opts.query)), { method, headers, body, signal: opts.signal, credentials: this.credentials });
    } catch (err) {
      if ((err as Error)?.name === 'AbortError') throw err;
      throw networkError();
    }
    let parsed: unknown;
    try {
      parsed = await readBody(res);
    } catch {
      throw networkError();
    }
    if (!res.ok) throw errorFromBody(res.status, parsed, res.headers.get('retry-after'));
    return parsed as T;
  }

  /** An authenticated request (unless `auth: false`): a refused token is renewed once and the request repeated. */
  request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    if (opts.auth === false || !this.tokens) return this.raw<T>(method, path, opts);
    return this.withToken((token) => this.raw<T>(method, path, { ...opts, token }));
  }

  /** Runs `send` with the current token; after a 401, once more with a renewed one. */
  private async withToken<T>(send: (token: string) => Promise<T>): Promise<T> {
    const tokens = this.tokens!;
    const token = await tokens.token();
    if (!token) throw new ApiError(401, 'Please log in.', 'not_authenticated');
    try {
      return await send(token);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err;
      const renewed = await tokens.renew(token);
      if (!renewed) throw err;
      return send(renewed);
    }
  }

  get<T>(path: string, query?: Query, opts: RequestOptions = {}) {
    return this.request<T>('GET', path, { ...opts, query });
  }
  post<T>(path: string, body?: unknown, opts: RequestOptions = {}) {
    return this.request<T>('POST', path, { ...opts, body });
  }
  patch<T>(path: string, body?: unknown, opts: RequestOptions = {}) {
    return this.request<T>('PATCH', path, { ...opts, body });
  }
  delete<T = null>(path: string, opts: RequestOptions = {}) {
    return this.request<T>('DELETE', path, opts);
  }

  /**
   * A multipart upload with progress. Browsers use XMLHttpRequest (fetch reports no upload
   * progress); elsewhere fetch, with progress reported once at the end.
   */
  async upload<T>(path: string, form: FormData, onProgress?: (p: UploadProgress) => void, signal?: AbortSignal): Promise<T> {
    if (typeof XMLHttpRequest === 'undefined') {
      const result = await this.post<T>(path, form, { signal });
      onProgress?.({ loaded: 1, total: 1 });
      return result;
    }
    const send = (token: string | null) =>
      new Promise<T>((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open('POST', this.url(path));
        xhr.setRequestHeader('accept', 'application/json');
        if (token) xhr.setRequestHeader('authorization', `Bearer ${token}`);
        xhr.upload.onprogress = (e) => onProgress?.({ loaded: e.loaded, total: e.lengthComputable ? e.total : 0 });
        xhr.onload = () => {
          let body: unknown = null;
          try {
            body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
          } catch {
            body = xhr.responseText;
          }
          if (xhr.status >= 200 && xhr.status < 300) resolve(body as T);
          else reject(errorFromBody(xhr.status, body, xhr.getResponseHeader('retry-after')));
        };
        xhr.onerror = () => reject(networkError());
        xhr.onabort = () => reject(new DOMException('Upload cancelled', 'AbortError'));
        signal?.addEventListener('abort', () => xhr.abort(), { once: true });
        xhr.send(form);
      });
    return this.tokens ? this.withToken(send) : send(null);
  }
}
