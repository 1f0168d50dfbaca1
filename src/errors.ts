// One error path: services throw AppError; the handler in http/error-handler.ts renders it.
export type FieldErrors = Record<string, string[]>;

export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    /** Stable machine-readable id, sent as `code` beside `detail`. */
    readonly code: string,
    message: string,
    /** DRF-style field errors: rendered as the whole body `{"field": ["msg"]}`. */
    readonly fields?: FieldErrors,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (message: string, code = 'bad_request') => new AppError(400, code, message);
export const fieldError = (field: string, message: string) =>
  new AppError(400, 'invalid', message, { [field]: [message] });
export const fieldErrors = (fields: FieldErrors) => new AppError(400, 'invalid', 'Invalid input.', fields);
export const unauthorized = (message = 'Authentication credentials were not provided or are invalid.') =>
  new AppError(401, 'not_authenticated', message, undefined, { 'www-authenticate': 'Bearer' });
export const forbidden = (message = 'You do not have permission to perform this action.') =>
  new AppError(403, 'permission_denied', message);
export const notFound = (message = 'Not found.') => new AppError(404, 'not_found', message);
export const conflict = (message: string) => new AppError(409, 'conflict', message);
export const tooLarge = (message = 'Request body is too large.') => new AppError(413, 'too_large', message);
export const tooManyRequests = (retryAfterSec: number) =>
  new AppError(429, 'throttled', `Request was throttled. Expected available in ${retryAfterSec} seconds.`, undefined, {
    'retry-after': String(retryAfterSec),
  });
