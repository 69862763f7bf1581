// berth cp: files between a container and the host, both ways, or a tar on "-".
//
// berth.engine.v1 has no archive call yet (Docker's GET/PUT /containers/{id}/archive), so this
// runs tar inside the container through exec: every path is resolved by the container's own
// processes in its own mount namespace and root, so `..` and symlinks stay inside it (as Docker's
// resolution in the container's root), and volumes and tmpfs are seen as the process sees them.
// Until berthd serves an archive call, the container must be running and have sh and tar.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { execCollect, inspectContainer, type Ctx } from '../lib/context.js';
import { ExitError, UsageError } from '../lib/errors.js';

/** "CONTAINER:PATH" → its parts; a local path (with "/" before any ":", or none) → undefined. */
export function splitCpArg(arg: string): { container: string; path: string } | undefined {
  if (arg.startsWith('/') || arg.startsWith('.')) return undefined;
  const at = arg.indexOf(':');
  if (at <= 0) return undefined;
  return { container: arg.slice(0, at), path: arg.slice(at + 1) };
}

function hostTar(args: string[], input?: Buffer): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((res, rej) => {
    const p = spawn('tar', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    p.on('error', rej);
    p.on('close', (code) => res({ code: code ?? 1, stdout: Buffer.concat(out), stderr: err }));
    p.stdin.on('error', () => undefined);
    p.stdin.end(input);
  });
}

function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((res, rej) => {
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('end', () => res(Buffer.concat(parts)));
    s.on('error', rej);
  });
}

const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export function cpCommand(ctx: Ctx, name = 'cp'): Command {
  return new Command(name)
    .description('Copy files/folders between a container and the local filesystem')
    .usage('[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n       berth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH')
    .argument('<src>')
    .argument('<dest>')
    .option('-a, --archive', 'archive mode (copy all uid/gid information)')
    .option('-L, --follow-link', 'always follow symbol link in SRC_PATH')
    .option('-q, --quiet', 'suppress progress output during copy')
    .action(async (src: string, dest: string, o: { archive?: boolean; followLink?: boolean }) => {
      const from = splitCpArg(src);
      const to = splitCpArg(dest);
      if (from && to) throw new UsageError('copying between containers is not supported');
      if (!from && !to) throw new UsageError('must specify at least one container source');
      if (from) await fromContainer(ctx, from.container, from.path, dest, o);
      else await toContainer(ctx, src, to!.container, to!.path, o);
    });
}

async function running(ctx: Ctx, ref: string): Promise<string> {
  const c = await inspectContainer(ctx, ref);
  if (!c.State.Running || c.State.Paused) {
    throw new ExitError(1, `Error response from daemon: berth cp needs a running container for now (${ref} is ${c.State.Status}): berthd has no archive API yet`);
  }
  return c.Id;
}

async function fromContainer(ctx: Ctx, ref: string, path: string, dest: string, o: { archive?: boolean; followLink?: boolean }): Promise<void> {
  const id = await running(ctx, ref);
  if (!path) throw new UsageError('source path is empty');
  const abs = path.startsWith('/') ? path : `/${path}`;
  // Docker: a trailing "/." copies the directory's contents rather than the directory.
  const contents = abs.endsWith('/.');
  const clean = abs.replace(/\/\.$/, '').replace(/\/+$/, '') || '/';
  const dir = contents || clean === '/' ? clean : dirname(clean);
  const base = contents || clean === '/' ? '.' : basename(clean);
  const script = `cd ${sq(dir)} 2>/dev/null && [ -e ${sq(base)} -o -L ${sq(base)} ] || { echo "Could not find the file ${clean} in container ${ref}" >&2; exit 2; }; exec tar -c${o.followLink ? 'h' : ''}f - ${sq(base)}`;
  const r = await execCollect(ctx, id, ['sh', '-c', script]);
  if (r.code !== 0) throw new ExitError(1, `Error response from daemon: ${r.stderr.trim() || `tar exited ${r.code}`}`);
  if (dest === '-') {
    process.stdout.write(r.stdout);
    return;
  }
  const target = resolve(dest);
  const ownerArgs = o.archive ? ['--same-owner', '--numeric-owner'] : ['--no-same-owner'];
  const intoDir = existsSync(target) && statSync(target).isDirectory();
  if (intoDir && !contents) {
    const x = await hostTar(['-x', '-f', '-', '-C', target, ...ownerArgs], r.stdout);
    if (x.code !== 0) throw new ExitError(1, x.stderr.trim());
    return;
  }
  const parent = dirname(target);
  if (!existsSync(parent)) throw new ExitError(1, `open ${target}: no such file or directory`);
  const tmp = mkdtempSync(join(parent, '.berth-cp-'));
  try {
    const x = await hostTar(['-x', '-f', '-', '-C', tmp, ...ownerArgs], r.stdout);
    if (x.code !== 0) throw new ExitError(1, x.stderr.trim());
    if (contents && intoDir) {
      const y = await hostTar(['-c', '-f', '-', '-C', tmp, '.']);
      await hostTar(['-x', '-f', '-', '-C', target, ...ownerArgs], y.stdout);
    } else {
      renameSync(join(tmp, base === '.' ? '' : base), target);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function toContainer(ctx: Ctx, src: string, ref: string, path: string, o: { archive?: boolean; followLink?: boolean }): Promise<void> {
  const id = await running(ctx, ref);
  if (!path) throw new UsageError('destination path is empty');
  const abs = path.startsWith('/') ? path : `/${path}`;
  let tar: Buffer;
  let base = '';
  if (src === '-') {
    tar = await readAll(process.stdin);
  } else {
    const local = resolve(src);
    if (!existsSync(local)) throw new ExitError(1, `stat ${local}: no such file or directory`);
    const contents = src.endsWith('/.');
    const dir = contents ? local : dirname(local);
    base = contents ? '.' : basename(local);
    const owner = o.archive ? [] : ['--owner=0', '--group=0', '--numeric-owner'];
    const c = await hostTar(['-c', ...(o.followLink ? ['-h'] : []), ...owner, '-f', '-', '-C', dir, base]);
    if (c.code !== 0) throw new ExitError(1, c.stderr.trim());
    tar = c.stdout;
  }
  // In the container: into DEST when it is a directory, else DEST is the copy's new name (its
  // parent must exist), as docker cp. tar -o keeps root as owner without -a.
  const x = o.archive || src === '-' ? '' : 'o';
  const script = [
    'd=$1; b=$2',
    'if [ -d "$d" ]; then exec tar -x' + x + 'f - -C "$d"; fi',
    'if [ -z "$b" ] || [ "$b" = . ]; then echo "destination \\"$d\\" must be a directory" >&2; exit 2; fi',
    'p=$(dirname "$d"); [ -d "$p" ] || { echo "Could not find the file $p in container $3" >&2; exit 2; }',
    't=$(mktemp -d "$p/.berth-cp-XXXXXX") || exit 2',
    'tar -x' + x + 'f - -C "$t" && rm -rf "$d" && mv "$t/$b" "$d"; s=$?; rm -rf "$t"; exit $s',
  ].join('\n');
  const r = await execCollect(ctx, id, ['sh', '-c', script, 'sh', abs, base, ref], tar);
  if (r.code !== 0) throw new ExitError(1, `Error response from daemon: ${r.stderr.trim() || `tar exited ${r.code}`}`);
}
