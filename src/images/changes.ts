import { errors } from '../errors/errors.js';
import type { ContainerConfig } from '../oci/image.js';

const ALLOWED = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'];

/**
 * Applies `--change` instructions (Dockerfile syntax, one instruction each)
 * to a container config, as `docker import` and `docker commit` do.
 */
export function applyChanges(config: ContainerConfig, changes: string[]): ContainerConfig {
  const out: ContainerConfig = { ...config };
  for (const change of changes) {
    const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(change);
    const instr = m?.[1].toUpperCase() ?? '';
    const rest = (m?.[2] ?? '').trim();
    if (!ALLOWED.includes(instr)) {
      throw errors.invalidArgument(`--change "${change}": ${instr || 'empty'} is not a valid change command (valid: ${ALLOWED.join(', ')})`);
    }
    switch (instr) {
      case 'CMD':
        out.Cmd = commandForm(rest, change);
        break;
      case 'ENTRYPOINT':
        out.Entrypoint = commandForm(rest, change);
        break;
      case 'ENV':
        out.Env = mergeEnv(out.Env ?? [], keyValues(rest, change));
        break;
      case 'LABEL':
        out.Labels = { ...(out.Labels ?? {}), ...Object.fromEntries(keyValues(rest, change)) };
        break;
      case 'EXPOSE':
        out.ExposedPorts = { ...(out.ExposedPorts ?? {}) };
        for (const p of rest.split(/\s+/).filter(Boolean)) out.ExposedPorts[p.includes('/') ? p : `${p}/tcp`] = {};
        break;
      case 'VOLUME': {
        out.Volumes = { ...(out.Volumes ?? {}) };
        const vols = rest.startsWith('[') ? jsonArray(rest, change) : rest.split(/\s+/).filter(Boolean);
        for (const v of vols) out.Volumes[v] = {};
        break;
      }
      case 'WORKDIR':
        out.WorkingDir = rest.startsWith('/') ? rest : `${out.WorkingDir ?? '/'}/${rest}`.replace(/\/+/g, '/');
        break;
      case 'USER':
        out.User = rest;
        break;
      case 'STOPSIGNAL':
        out.StopSignal = rest;
        break;
      case 'ONBUILD':
        out.OnBuild = [...(out.OnBuild ?? []), rest];
        break;
    }
  }
  return out;
}

function commandForm(rest: string, change: string): string[] {
  if (rest.startsWith('[')) return jsonArray(rest, change);
  return ['/bin/sh', '-c', rest];
}

function jsonArray(rest: string, change: string): string[] {
  try {
    const v = JSON.parse(rest);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  } catch {
    // reported below
  }
  throw errors.invalidArgument(`--change "${change}": expected a JSON array of strings`);
}

/** `K=V K2="V 2"` pairs, or the legacy `K V` form of one pair. */
function keyValues(rest: string, change: string): [string, string][] {
  if (!rest.includes('=') || /^\S+\s/.test(rest.split('=')[0])) {
    const m = /^(\S+)\s+(.*)$/s.exec(rest);
    if (!m) throw errors.invalidArgument(`--change "${change}": expected KEY=VALUE`);
    return [[m[1], m[2]]];
  }
  const pairs: [string, string][] = [];
  const re = /([^\s=]+)=("((?:[^"\\]|\\.)*)"|'([^']*)'|(\S*))/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(rest))) {
    const value = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : (m[4] ?? m[5] ?? '');
    pairs.push([m[1], value]);
  }
  if (pairs.length === 0) throw errors.invalidArgument(`--change "${change}": expected KEY=VALUE`);
  return pairs;
}

function mergeEnv(env: string[], pairs: [string, string][]): string[] {
  const out = [...env];
  for (const [k, v] of pairs) {
    const i = out.findIndex((e) => e.split('=')[0] === k);
    if (i >= 0) out[i] = `${k}=${v}`;
    else out.push(`${k}=${v}`);
  }
  return out;
}
