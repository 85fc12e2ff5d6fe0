import { ramInBytes } from '../../cli/format/units.js';
import { errors } from '../../errors/errors.js';

/** The devicemapper options, named as Docker's `--storage-opt dm.*`. */
export const DM_OPTION_KEYS = ['dm.loopdatasize', 'dm.loopmetadatasize', 'dm.datadev', 'dm.metadatadev', 'dm.basesize'] as const;

export interface DmOptions {
  /** Size of the sparse data loop file (default 100 GB). */
  loopDataSize: number;
  /** Size of the sparse metadata loop file (default 2 GB). */
  loopMetadataSize: number;
  /** Block devices to build the pool on instead of loop files; both or neither. */
  dataDev?: string;
  metadataDev?: string;
  /** Size of the base device every root layer is a snapshot of (default 10 GB). */
  baseSize: number;
}

const GB = 1024 * 1024 * 1024;

export function parseDmOptions(opts: Record<string, string>): DmOptions {
  const size = (key: string, fallback: number): number => {
    const v = opts[key];
    if (v === undefined) return fallback;
    let n: number;
    try {
      n = ramInBytes(v);
    } catch (e) {
      throw errors.invalidArgument(`devicemapper: ${key}=${v} is not a size such as 100G or 512M`, { cause: e });
    }
    if (n < 64 * 1024 * 1024) throw errors.invalidArgument(`devicemapper: ${key}=${v} is too small; use at least 64M`);
    return n;
  };
  const dataDev = opts['dm.datadev'];
  const metadataDev = opts['dm.metadatadev'];
  if ((dataDev === undefined) !== (metadataDev === undefined)) {
    throw errors.invalidArgument('devicemapper: dm.datadev and dm.metadatadev go together; give both block devices or neither');
  }
  return {
    loopDataSize: size('dm.loopdatasize', 100 * GB),
    loopMetadataSize: size('dm.loopmetadatasize', 2 * GB),
    ...(dataDev !== undefined ? { dataDev, metadataDev } : {}),
    baseSize: size('dm.basesize', 10 * GB),
  };
}
