import assert from 'node:assert/strict';
import { it } from 'node:test';
import { errors, StrataError } from '../../src/errors/errors.js';

it('pins the stable error codes callers switch on', () => {
  const codes = Object.fromEntries(Object.entries(errors).map(([name, make]) => [name, make('x').code]));
  assert.deepEqual(codes, {
    notFound: 'STRATA_ERR_NOT_FOUND',
    imageNotFound: 'STRATA_ERR_IMAGE_NOT_FOUND',
    blobNotFound: 'STRATA_ERR_BLOB_NOT_FOUND',
    snapshotNotFound: 'STRATA_ERR_SNAPSHOT_NOT_FOUND',
    alreadyExists: 'STRATA_ERR_ALREADY_EXISTS',
    invalidArgument: 'STRATA_ERR_INVALID_ARGUMENT',
    invalidReference: 'STRATA_ERR_INVALID_REFERENCE',
    invalidDigest: 'STRATA_ERR_INVALID_DIGEST',
    digestMismatch: 'STRATA_ERR_DIGEST_MISMATCH',
    sizeMismatch: 'STRATA_ERR_SIZE_MISMATCH',
    hostileArchive: 'STRATA_ERR_HOSTILE_ARCHIVE',
    corruptArchive: 'STRATA_ERR_CORRUPT_ARCHIVE',
    invalidManifest: 'STRATA_ERR_INVALID_MANIFEST',
    conflict: 'STRATA_ERR_CONFLICT',
    imageInUse: 'STRATA_ERR_IMAGE_IN_USE',
    failedPrecondition: 'STRATA_ERR_FAILED_PRECONDITION',
    driverMismatch: 'STRATA_ERR_DRIVER_MISMATCH',
    driverUnsupported: 'STRATA_ERR_DRIVER_UNSUPPORTED',
    unsupported: 'STRATA_ERR_UNSUPPORTED',
    unavailable: 'STRATA_ERR_UNAVAILABLE',
    unauthorized: 'STRATA_ERR_UNAUTHORIZED',
    internal: 'STRATA_ERR_INTERNAL',
  });
  const e = errors.digestMismatch('bad');
  assert.ok(e instanceof StrataError);
  assert.equal(e.kind, 'DataLoss');
});
