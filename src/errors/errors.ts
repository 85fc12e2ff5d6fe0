/**
 * Every error Strata raises on purpose is a StrataError with a stable `code`.
 * Callers (CLI exit codes, the Engine API status map) switch on `kind`, never on
 * message text. Messages say what failed, where, and how to fix it.
 */
export type ErrorKind =
  | 'NotFound'
  | 'AlreadyExists'
  | 'InvalidArgument'
  | 'Conflict'
  | 'FailedPrecondition'
  | 'Unauthenticated'
  | 'Unavailable'
  | 'DataLoss'
  | 'Unsupported'
  | 'Internal';

export class StrataError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  constructor(kind: ErrorKind, code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StrataError';
    this.kind = kind;
    this.code = code;
  }
}

const make =
  (kind: ErrorKind, code: string) =>
  (message: string, options?: { cause?: unknown }): StrataError =>
    new StrataError(kind, code, message, options);

/** Constructors, one per stable code. A test pins this list. */
export const errors = {
  notFound: make('NotFound', 'STRATA_ERR_NOT_FOUND'),
  imageNotFound: make('NotFound', 'STRATA_ERR_IMAGE_NOT_FOUND'),
  blobNotFound: make('NotFound', 'STRATA_ERR_BLOB_NOT_FOUND'),
  snapshotNotFound: make('NotFound', 'STRATA_ERR_SNAPSHOT_NOT_FOUND'),
  alreadyExists: make('AlreadyExists', 'STRATA_ERR_ALREADY_EXISTS'),
  invalidArgument: make('InvalidArgument', 'STRATA_ERR_INVALID_ARGUMENT'),
  invalidReference: make('InvalidArgument', 'STRATA_ERR_INVALID_REFERENCE'),
  invalidDigest: make('InvalidArgument', 'STRATA_ERR_INVALID_DIGEST'),
  digestMismatch: make('DataLoss', 'STRATA_ERR_DIGEST_MISMATCH'),
  sizeMismatch: make('DataLoss', 'STRATA_ERR_SIZE_MISMATCH'),
  hostileArchive: make('InvalidArgument', 'STRATA_ERR_HOSTILE_ARCHIVE'),
  corruptArchive: make('DataLoss', 'STRATA_ERR_CORRUPT_ARCHIVE'),
  invalidManifest: make('InvalidArgument', 'STRATA_ERR_INVALID_MANIFEST'),
  conflict: make('Conflict', 'STRATA_ERR_CONFLICT'),
  imageInUse: make('Conflict', 'STRATA_ERR_IMAGE_IN_USE'),
  failedPrecondition: make('FailedPrecondition', 'STRATA_ERR_FAILED_PRECONDITION'),
  driverMismatch: make('FailedPrecondition', 'STRATA_ERR_DRIVER_MISMATCH'),
  driverUnsupported: make('Unsupported', 'STRATA_ERR_DRIVER_UNSUPPORTED'),
  unsupported: make('Unsupported', 'STRATA_ERR_UNSUPPORTED'),
  unavailable: make('Unavailable', 'STRATA_ERR_UNAVAILABLE'),
  unauthorized: make('Unauthenticated', 'STRATA_ERR_UNAUTHORIZED'),
  internal: make('Internal', 'STRATA_ERR_INTERNAL'),
} as const;

export function isStrataError(e: unknown, kind?: ErrorKind): e is StrataError {
  return e instanceof StrataError && (kind === undefined || e.kind === kind);
}

/** Node fs errors carry an errno code; this narrows them without `any`. */
export function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}
