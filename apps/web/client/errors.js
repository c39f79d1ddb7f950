/**
 * Typed errors of the notification client.
 *
 * Every failure a caller can see is one of these, so `instanceof` (or `.name`)
 * tells what to do: an ApiError carries the contract's error body
 * (`{"error": {code, message, field?}}`), a NetworkError means the server was
 * not reached, an UnexpectedResponseError means something else answered (a
 * proxy's error page, a body that is not the contract's shape).
 * @module errors
 */

/** Base class: every error this client throws or reports. */
export class NotificationError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The server answered with the contract's error body. */
export class ApiError extends NotificationError {
  /**
   * @param {number} status HTTP status
   * @param {string} code the contract's snake_case code, e.g. `not_found`
   * @param {string} message the server's text
   * @param {string | undefined} field the offending field, for `validation_failed`
   */
  constructor(status, code, message, field) {
    super(`${status} ${code}: ${message}`);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** The request never got an answer (offline, DNS, connection refused, aborted). */
export class NetworkError extends NotificationError {}

/** An answer that is not what the contract promises. */
export class UnexpectedResponseError extends NotificationError {
  /**
   * @param {number} status HTTP status
   * @param {string} body the first bytes of the body, for the log
   */
  constructor(status, body) {
    super(`unexpected response ${status}: ${body.slice(0, 200)}`);
    this.status = status;
    this.body = body;
  }
}

/** The server sent an in-band `error` message on the socket (contract §5). */
export class ProtocolError extends NotificationError {
  /**
   * @param {string} code e.g. `invalid_message`, `unauthorized`
   * @param {string} message the server's text
   */
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

/**
 * Turns a failed answer into the matching error.
 * @param {number} status
 * @param {string} text the raw body
 * @returns {ApiError | UnexpectedResponseError}
 */
export function errorFromResponse(status, text) {
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return new UnexpectedResponseError(status, text);
  }
  const error = body !== null && typeof body === 'object' ? body.error : undefined;
  if (error && typeof error.code === 'string' && typeof error.message === 'string') {
    const field = typeof error.field === 'string' ? error.field : undefined;
    return new ApiError(status, error.code, error.message, field);
  }
  return new UnexpectedResponseError(status, text);
}

/** @param {unknown} error @returns {boolean} true for a 401 answer */
export function isUnauthorized(error) {
  return error instanceof ApiError && error.status === 401;
}
