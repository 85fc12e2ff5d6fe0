import { StrataError, type ErrorKind } from '../../errors/errors.js';

/** The error codes of the distribution spec ("Error Codes"); the server maps each to one HTTP status. */
export type ErrorCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'SIZE_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS';

/** Each spec code as a Strata kind and stable code, so non-HTTP callers can switch on them too. */
const STRATA: Record<ErrorCode, [ErrorKind, string]> = {
  BLOB_UNKNOWN: ['NotFound', 'STRATA_ERR_BLOB_NOT_FOUND'],
  BLOB_UPLOAD_INVALID: ['InvalidArgument', 'STRATA_ERR_INVALID_ARGUMENT'],
  BLOB_UPLOAD_UNKNOWN: ['NotFound', 'STRATA_ERR_NOT_FOUND'],
  DIGEST_INVALID: ['InvalidArgument', 'STRATA_ERR_INVALID_DIGEST'],
  MANIFEST_BLOB_UNKNOWN: ['FailedPrecondition', 'STRATA_ERR_FAILED_PRECONDITION'],
  MANIFEST_INVALID: ['InvalidArgument', 'STRATA_ERR_INVALID_MANIFEST'],
  MANIFEST_UNKNOWN: ['NotFound', 'STRATA_ERR_NOT_FOUND'],
  NAME_INVALID: ['InvalidArgument', 'STRATA_ERR_INVALID_REFERENCE'],
  NAME_UNKNOWN: ['NotFound', 'STRATA_ERR_NOT_FOUND'],
  SIZE_INVALID: ['InvalidArgument', 'STRATA_ERR_SIZE_MISMATCH'],
  UNAUTHORIZED: ['FailedPrecondition', 'STRATA_ERR_FAILED_PRECONDITION'],
  DENIED: ['FailedPrecondition', 'STRATA_ERR_FAILED_PRECONDITION'],
  UNSUPPORTED: ['Unsupported', 'STRATA_ERR_UNSUPPORTED'],
  TOOMANYREQUESTS: ['Unavailable', 'STRATA_ERR_UNAVAILABLE'],
};

/** A failure the registry reports to clients with a spec code, a message and optional detail. */
export class DistributionError extends StrataError {
  readonly errorCode: ErrorCode;
  readonly detail?: unknown;
  /** Overrides the code's usual status where the spec asks for another (413, 416). */
  readonly status?: number;

  constructor(errorCode: ErrorCode, message: string, opts: { detail?: unknown; status?: number; cause?: unknown } = {}) {
    const [kind, code] = STRATA[errorCode];
    super(kind, code, message, { cause: opts.cause });
    this.errorCode = errorCode;
    this.detail = opts.detail;
    this.status = opts.status;
  }
}

export function regError(code: ErrorCode, message: string, opts?: { detail?: unknown; status?: number; cause?: unknown }): DistributionError {
  return new DistributionError(code, message, opts);
}
