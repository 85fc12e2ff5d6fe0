import { Transform, type TransformCallback } from 'node:stream';
import { createHash, type Hash } from 'node:crypto';
import { algorithmOf, type Algorithm, type Digest } from './digest.js';
import { errors } from '../errors/errors.js';

/**
 * A pass-through stream that hashes and counts bytes as they flow. With an
 * expected size it fails as soon as the stream runs past it; with an expected
 * digest it fails at the end, before the consumer sees the stream finish.
 */
export class VerifyingStream extends Transform {
  #hash: Hash;
  #algorithm: Algorithm;
  #expectedDigest?: Digest;
  #expectedSize?: number;
  #what: string;
  size = 0;
  digest?: Digest;

  constructor(opts: { expectedDigest?: Digest; expectedSize?: number; algorithm?: Algorithm; what?: string } = {}) {
    super();
    this.#algorithm = opts.expectedDigest ? algorithmOf(opts.expectedDigest) : (opts.algorithm ?? 'sha256');
    this.#hash = createHash(this.#algorithm);
    this.#expectedDigest = opts.expectedDigest;
    this.#expectedSize = opts.expectedSize;
    this.#what = opts.what ?? opts.expectedDigest ?? 'content';
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.size += chunk.length;
    if (this.#expectedSize !== undefined && this.size > this.#expectedSize) {
      cb(errors.sizeMismatch(`${this.#what}: more than the expected ${this.#expectedSize} bytes`));
      return;
    }
    this.#hash.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.digest = `${this.#algorithm}:${this.#hash.digest('hex')}`;
    if (this.#expectedSize !== undefined && this.size !== this.#expectedSize) {
      cb(errors.sizeMismatch(`${this.#what}: got ${this.size} bytes, expected ${this.#expectedSize}`));
    } else if (this.#expectedDigest !== undefined && this.digest !== this.#expectedDigest) {
      cb(errors.digestMismatch(`${this.#what}: content has digest ${this.digest}, expected ${this.#expectedDigest}`));
    } else {
      cb();
    }
  }
}
