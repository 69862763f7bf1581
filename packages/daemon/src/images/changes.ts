/** `import -c`: the Dockerfile instructions Docker allows there, applied to an image config. */
import { InvalidArgumentError } from '@berth/api/errdefs';
import type { ImageConfig } from '../config/docker-types.js';

function jsonOrShell(rest: string): string[] {
  const t = rest.trim();
  if (t.startsWith('[')) {
    try {
      const v = JSON.parse(t) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    } catch { /* shell form */ }
  }
  return ['/bin/sh', '-c', t];
}

/** KEY=value pairs (quotes allowed) or the legacy `KEY value` form. */
function pairs(rest: string, what: string): [string, string][] {
  const t = rest.trim();
  if (!/^[^\s=]+=/.test(t)) {
    const m = /^(\S+)\s+(.*)$/.exec(t);
    if (!m) throw new InvalidArgumentError(`${what} needs a value: ${rest}`);
    return [[m[1]!, m[2]!]];
  }
  const out: [string, string][] = [];
  const re = /([^\s=]+)=("((?:[^"\\]|\\.)*)"|'([^']*)'|(\S*))/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(t))) out.push([m[1]!, m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[4] ?? m[5] ?? '']);
  return out;
}

export function applyChanges(cfg: ImageConfig, changes: string[]): ImageConfig {
  const c: ImageConfig = structuredClone(cfg);
  for (const change of changes) {
    const m = /^\s*(\w+)\s+([\s\S]*)$/.exec(change);
    if (!m) throw new InvalidArgumentError(`invalid change: ${JSON.stringify(change)}`);
    const rest = m[2]!;
    switch (m[1]!.toUpperCase()) {
      case 'CMD': c.Cmd = jsonOrShell(rest); break;
      case 'ENTRYPOINT': c.Entrypoint = jsonOrShell(rest); break;
      case 'ENV':
        for (const [k, v] of pairs(rest, 'ENV')) c.Env = [...(c.Env ?? []).filter((e) => !e.startsWith(`${k}=`)), `${k}=${v}`];
        break;
      case 'LABEL':
        c.Labels = { ...(c.Labels ?? {}), ...Object.fromEntries(pairs(rest, 'LABEL')) };
        break;
      case 'EXPOSE':
        for (const p of rest.trim().split(/\s+/)) c.ExposedPorts = { ...(c.ExposedPorts ?? {}), [p.includes('/') ? p : `${p}/tcp`]: {} };
        break;
      case 'USER': c.User = rest.trim(); break;
      case 'WORKDIR': c.WorkingDir = rest.trim(); break;
      case 'STOPSIGNAL': c.StopSignal = rest.trim(); break;
      case 'VOLUME': {
        const t = rest.trim();
        const vols = t.startsWith('[') ? (JSON.parse(t) as string[]) : t.split(/\s+/);
        c.Volumes = { ...(c.Volumes ?? {}), ...Object.fromEntries(vols.map((v) => [v, {}])) };
        break;
      }
      case 'ONBUILD': c.OnBuild = [...(c.OnBuild ?? []), rest.trim()]; break;
      default:
        throw new InvalidArgumentError(`${m[1]} is not a valid change command (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR)`);
    }
  }
  return c;
}
