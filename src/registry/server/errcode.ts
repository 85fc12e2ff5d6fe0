import { isStrataError, type ErrorKind } from '../../errors/errors.js';
import { DistributionError, type ErrorCode } from '../storage/errors.js';

/** Every spec error code with its HTTP status and message, listed once. */
export const ERROR_CODES: Record<ErrorCode, { status: number; message: string }> = {
  BLOB_UNKNOWN: { status: 404, message: 'blob unknown to registry' },
  BLOB_UPLOAD_INVALID: { status: 400, message: 'blob upload invalid' },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: 'blob upload unknown to registry' },
  DIGEST_INVALID: { status: 400, message: 'provided digest did not match uploaded content' },
  MANIFEST_BLOB_UNKNOWN: { status: 400, message: 'manifest references a manifest or blob unknown to registry' },
  MANIFEST_INVALID: { status: 400, message: 'manifest invalid' },
  MANIFEST_UNKNOWN: { status: 404, message: 'manifest unknown to registry' },
  NAME_INVALID: { status: 400, message: 'invalid repository name' },
  NAME_UNKNOWN: { status: 404, message: 'repository name not known to registry' },
  SIZE_INVALID: { status: 400, message: 'provided length did not match content length' },
  UNAUTHORIZED: { status: 401, message: 'authentication required' },
  DENIED: { status: 403, message: 'requested access to the resource is denied' },
  UNSUPPORTED: { status: 405, message: 'the operation is unsupported' },
  TOOMANYREQUESTS: { status: 429, message: 'too many requests' },
};

/** Strata errors that carry no spec code, by kind. */
const BY_KIND: Partial<Record<ErrorKind, ErrorCode>> = {
  InvalidArgument: 'BLOB_UPLOAD_INVALID',
  Unsupported: 'UNSUPPORTED',
  Unavailable: 'TOOMANYREQUESTS',
};

export interface ErrorResponse {
  status: number;
  body: { errors: { code: ErrorCode; message: string; detail?: unknown }[] };
  /** Unexpected failures: logged with their stack, reported to the client as 500. */
  internal: boolean;
}

export function errorResponse(e: unknown): ErrorResponse {
  if (e instanceof DistributionError) {
    const status = e.status ?? ERROR_CODES[e.errorCode].status;
    return { status, body: { errors: [{ code: e.errorCode, message: e.message, ...(e.detail === undefined ? {} : { detail: e.detail }) }] }, internal: false };
  }
  if (isStrataError(e)) {
    if (e.code === 'STRATA_ERR_INVALID_DIGEST') return errorResponse(new DistributionError('DIGEST_INVALID', e.message));
    if (e.code === 'STRATA_ERR_INVALID_REFERENCE') return errorResponse(new DistributionError('NAME_INVALID', e.message));
    if (e.kind === 'Unavailable') {
      return { status: 503, body: { errors: [{ code: 'TOOMANYREQUESTS', message: 'storage is unavailable; retry later' }] }, internal: true };
    }
    const code = BY_KIND[e.kind];
    if (code) return errorResponse(new DistributionError(code, e.message));
  }
  return { status: 500, body: { errors: [{ code: 'UNSUPPORTED', message: 'internal server error' }] }, internal: true };
}
