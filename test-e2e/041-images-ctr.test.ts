// Image storage wired into berth-containerd and berth-ctr (issue 4): the busybox test image as an
// OCI layout tar (tools/build-test-image.sh) imported with `berth-ctr images import`, listed,
// run from (`run --rm IMAGE ID CMD`, exit code passed through), exported and imported back; two
// images sharing the base store it once (content and snapshots); `images rm` and GC free what
// nothing references but never a container's snapshot; a container from an image keeps running
// on its mounted rootfs through a kill -9 and restart of berth-containerd. Leak-checked: no
// mount, process or cgroup is left behind.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, copyFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { repoRoot, testImageTar } from './support/index.js';
import { useContainerd } from './support/containerd.js';
import { waitFor, type Containerd } from './030-containerd-support.js';
import { diskBytes, dir, file, tarOf } from './040-image-storage-support.js';

const IMAGE = 'docker.io/berth/busybox:latest';
const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function ociTar(): string {
  testImageTar(); // builds the image (and its OCI layout) when needed
  return join(repoRoot, 'build', 'test-image', 'busybox-oci.tar');
}

/** An image on top of the busybox one (same base layer blob), with /app/hello; as an OCI layout tar. */
async function derivedImage(outDir: string, ref: string, hello: string): Promise<{ tar: string; layer: string }> {
  const src = join(repoRoot, 'build', 'test-image', 'oci');
  const blobs = join(outDir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  for (const b of readdirSync(join(src, 'blobs', 'sha256'))) copyFileSync(join(src, 'blobs', 'sha256', b), join(blobs, b));
  const put = (b: Buffer): { digest: string; size: number } => {
    const digest = sha(b);
    writeFileSync(join(blobs, digest.slice(7)), b);
    return { digest, size: b.length };
  };
  const read = (d: string): Buffer => readFileSync(join(blobs, d.slice(7)));
  const index = JSON.parse(readFileSync(join(src, 'index.json'), 'utf8')) as { manifests: { digest: string; platform?: unknown }[] };
  const base = JSON.parse(read(index.manifests[0]!.digest).toString()) as { config: { digest: string }; layers: object[] };
  const baseConfig = JSON.parse(read(base.config.digest).toString()) as { rootfs: { diff_ids: string[] }; config: Record<string, unknown> };
  const layerTar = await tarOf([dir('app/'), file('app/hello', hello)]);
  const layer = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...put(gzipSync(layerTar)) };
  const config = put(Buffer.from(JSON.stringify({ ...baseConfig, config: { ...baseConfig.config, Cmd: ['cat', '/app/hello'] }, rootfs: { type: 'layers', diff_ids: [...baseConfig.rootfs.diff_ids, sha(layerTar)] } })));
  const manifest = put(Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: [...base.layers, layer],
  })));
  writeFileSync(join(outDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(outDir, 'index.json'), JSON.stringify({
    schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': ref } }],
  }));
  const tar = `${outDir}.tar`;
  execFileSync('tar', ['-C', outDir, '-cf', tar, '.']);
  return { tar, layer: layer.digest };
}

async function ok(d: Containerd, args: string[]): Promise<string> {
  const r = await d.ctr(args, 120_000);
  if (r.code !== 0) throw new Error(`berth-ctr ${args.join(' ')} exited ${r.code}:\n${r.stdout}${r.stderr}\n--- containerd log tail:\n${d.log().slice(-3000)}`);
  return r.stdout;
}

/** Rows of a berth-ctr table, without the header, split on runs of 2+ spaces. */
const rows = (out: string): string[][] => out.trim().split('\n').slice(1).filter(Boolean).map((l) => l.trim().split(/\s{2,}/));

/** Mount points at or under `path` (this mount namespace: the host's). */
function mountsUnder(path: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m === path || m.startsWith(path + '/'));
}

describe('berth-containerd image storage through berth-ctr', () => {
  const containerd = useContainerd();

  it('imports the OCI busybox image, lists it, runs from it (--rm, exit code), and exports it back', async () => {
    const d = containerd();
    await d.start();
    const imported = await ok(d, ['images', 'import', ociTar()]);
    expect(imported).toContain(IMAGE);
    const ls = rows(await ok(d, ['images', 'ls']));
    expect(ls.map((r) => r[0])).toEqual([IMAGE]);
    expect(ls[0]![4]).toBe(`linux/${process.arch === 'x64' ? 'amd64' : process.arch}`);
    expect(rows(await ok(d, ['images', 'check']))[0]).toEqual([IMAGE, expect.any(String), expect.any(String), 'complete (3/3)', expect.any(String), 'false']);

    const r = await d.ctr(['run', '--rm', IMAGE, 'r1', 'sh', '-c', 'echo hello from $(head -1 /etc/passwd | cut -d: -f1); exit 7'], 120_000);
    expect(r.stderr).toBe('');
    expect(r.stdout.replace(/\r/g, '')).toBe('hello from root\n');
    expect(r.code).toBe(7);
    // --rm took the container, its snapshot and its mount; the image's layer stays unpacked.
    expect(rows(await ok(d, ['containers', 'ls']))).toEqual([]);
    const snaps = rows(await ok(d, ['snapshots', 'ls']));
    expect(snaps).toHaveLength(1);
    expect(snaps[0]![snaps[0]!.length - 1]).toBe('Committed');
    expect(mountsUnder(d.roots.dir)).toEqual([]);
    expect(rows(await ok(d, ['images', 'check']))[0]![5]).toBe('true');

    // The image's working directory and environment are the process's.
    const env = await d.ctr(['run', '--rm', '--env', 'EXTRA=1', IMAGE, 'r2', 'sh', '-c', 'echo "$PWD $PATH $EXTRA"'], 60_000);
    expect(env.stdout.replace(/\r/g, '')).toBe('/ /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin 1\n');
    expect(env.code).toBe(0);

    // Export, remove, import the export: the same image, runnable; the tar has Docker's manifest.json.
    const out = join(d.roots.dir, 'export.tar');
    await ok(d, ['images', 'export', out, IMAGE]);
    const members = execFileSync('tar', ['-tf', out], { encoding: 'utf8' }).split('\n');
    expect(members).toEqual(expect.arrayContaining(['oci-layout', 'index.json', 'manifest.json']));
    const digest = ls[0]![2];
    await ok(d, ['images', 'rm', IMAGE]);
    expect(rows(await ok(d, ['images', 'ls']))).toEqual([]);
    expect(rows(await ok(d, ['content', 'ls']))).toEqual([]);
    await ok(d, ['images', 'import', out]);
    expect(rows(await ok(d, ['images', 'ls'])).map((x) => [x[0], x[2]])).toEqual([[IMAGE, digest]]);
    const again = await d.ctr(['run', '--rm', IMAGE, 'r3', 'busybox', 'true'], 60_000);
    expect(again.code).toBe(0);
  });

  it('stores a base shared by two images once; images rm + GC frees what nothing references, never a running container\'s snapshot', async () => {
    const d = containerd();
    await d.start();
    const derived = await derivedImage(join(d.roots.dir, 'derived'), 'docker.io/berth/hello:1', 'hello, layer two\n');
    await ok(d, ['images', 'import', ociTar()]);
    const contentBefore = await diskBytes(join(d.roots.root, 'content'));
    await ok(d, ['images', 'import', derived.tar]);
    // The base layer blob (~1 MiB) is not stored again: only the new layer, config and manifest.
    const contentGrowth = await diskBytes(join(d.roots.root, 'content')) - contentBefore;
    expect(contentGrowth).toBeLessThan(64 * 1024);
    expect(rows(await ok(d, ['content', 'ls']))).toHaveLength(6);

    // Both run; the base layer is unpacked once (one committed snapshot per chain ID).
    const r1 = await d.ctr(['run', '--rm', IMAGE, 'a1', 'true'], 60_000);
    expect(r1.code).toBe(0);
    const overlay = join(d.roots.root, 'snapshots', 'overlay');
    const oneBase = await diskBytes(overlay);
    const r2 = await d.ctr(['run', '--rm', 'docker.io/berth/hello:1', 'a2'], 60_000);
    expect(r2.stdout.replace(/\r/g, '')).toBe('hello, layer two\n');
    expect(r2.code).toBe(0);
    expect(await diskBytes(overlay) - oneBase).toBeLessThan(256 * 1024);
    const committed = rows(await ok(d, ['snapshots', 'ls']));
    expect(committed).toHaveLength(2);
    expect(committed.every((s) => s[s.length - 1] === 'Committed')).toBe(true);

    // A container from the derived image runs while the image is removed.
    await ok(d, ['run', '-d', 'docker.io/berth/hello:1', 'keep', 'sh', '-c', 'echo mine > /mine; exec sleep 1000']);
    await waitFor(async () => (await d.ctr(['tasks', 'exec', '--exec-id', 'w', 'keep', 'test', '-f', '/mine'])).code === 0, 10_000);
    await ok(d, ['images', 'rm', 'docker.io/berth/hello:1']);
    await ok(d, ['gc']);
    // Its config, manifest and layer blob are gone; the busybox image's three remain.
    const left = rows(await ok(d, ['content', 'ls'])).map((x) => x[0]);
    expect(left).toHaveLength(3);
    expect(left).not.toContain(derived.layer);
    // Its snapshots are not: the container's own, on the derived top layer, on the base.
    const snaps = rows(await ok(d, ['snapshots', 'ls']));
    expect(snaps.map((s) => s[0]).sort()).toEqual(expect.arrayContaining(['keep']));
    expect(snaps).toHaveLength(3);
    const exec = await d.ctr(['tasks', 'exec', '--exec-id', 'e1', 'keep', 'sh', '-c', 'cat /mine /app/hello']);
    expect(exec.stdout.replace(/\r/g, '')).toBe('mine\nhello, layer two\n');
    // A container's snapshot cannot be removed from under it.
    const rm = await d.ctr(['snapshots', 'rm', 'keep']);
    expect(rm.code).toBe(1);
    expect(rm.stderr).toMatch(/root of container keep/);
    // The other image still runs whole.
    const r3 = await d.ctr(['run', '--rm', IMAGE, 'a3', 'sh', '-c', 'test -x /bin/busybox && ! test -e /app'], 60_000);
    expect(r3.code).toBe(0);

    // The container goes: its snapshot, then the derived layer nothing holds now.
    await ok(d, ['tasks', 'rm', '-f', 'keep']);
    expect(mountsUnder(d.roots.dir)).toEqual([]);
    await ok(d, ['containers', 'rm', 'keep']);
    await ok(d, ['gc']);
    const after = rows(await ok(d, ['snapshots', 'ls']));
    expect(after).toHaveLength(1);
    expect(rows(await ok(d, ['images', 'check']))[0]![3]).toBe('complete (3/3)');
    // With the last image gone, GC leaves nothing.
    await ok(d, ['images', 'rm', IMAGE]);
    expect(rows(await ok(d, ['snapshots', 'ls']))).toEqual([]);
    expect(rows(await ok(d, ['content', 'ls']))).toEqual([]);
  });

  it('a container from an image keeps running on its mounted rootfs through kill -9 and restart of berth-containerd', async () => {
    const d = containerd();
    await d.start();
    await ok(d, ['images', 'import', ociTar()]);
    await ok(d, ['run', '-d', IMAGE, 'k1', 'sh', '-c', 'echo before > /state; exec sleep 1000']);
    const rootfs = join(d.roots.state, 'default', 'k1', 'rootfs');
    await waitFor(() => existsSync(join(rootfs, 'state')), 10_000);
    expect(mountsUnder(d.roots.dir)).toEqual([rootfs]);
    const pid = Number(rows(await ok(d, ['tasks', 'ls']))[0]![1]);

    await d.kill9();
    // The mount is the host's: it outlives berth-containerd.
    expect(mountsUnder(d.roots.dir)).toEqual([rootfs]);
    expect(readFileSync(join(rootfs, 'state'), 'utf8')).toBe('before\n');
    await d.start();
    // Not unmounted, not mounted again, not re-prepared.
    expect(mountsUnder(d.roots.dir)).toEqual([rootfs]);
    expect(rows(await ok(d, ['tasks', 'ls']))).toEqual([['k1', String(pid), 'RUNNING']]);
    const snaps = rows(await ok(d, ['snapshots', 'ls']));
    expect(snaps.map((s) => s[0])).toContain('k1');
    // GC after the restart keeps it too.
    await ok(d, ['gc']);
    expect(rows(await ok(d, ['snapshots', 'ls']))).toHaveLength(2);
    // The rootfs is intact, from inside and outside, and still writable through the same mount.
    const exec = await d.ctr(['tasks', 'exec', '--exec-id', 'x', 'k1', 'sh', '-c', 'cat /state; echo after >> /state; test -x /bin/busybox && echo whole']);
    expect(exec.stdout.replace(/\r/g, '')).toBe('before\nwhole\n');
    expect(readFileSync(join(rootfs, 'state'), 'utf8')).toBe('before\nafter\n');
    const info = JSON.parse(await ok(d, ['snapshots', 'info', 'k1'])) as { Kind: string; Parent: string };
    expect(info.Kind).toBe('Active');

    await ok(d, ['tasks', 'kill', '-s', 'KILL', 'k1']);
    await waitFor(async () => rows(await ok(d, ['tasks', 'ls']))[0]?.[2] === 'STOPPED', 10_000);
    await ok(d, ['tasks', 'rm', 'k1']);
    expect(mountsUnder(d.roots.dir)).toEqual([]);
    await ok(d, ['containers', 'rm', 'k1']);
    expect(rows(await ok(d, ['snapshots', 'ls'])).map((s) => s[0])).not.toContain('k1');
  });
});
