// Archives between Docker and Berth (DESIGN.md: "an archive made by one loads in the other"):
// `docker save` of Debian's dockerd (20.10: the pre-OCI form, manifest.json and <id>/layer.tar)
// imported with `berth-ctr images import` and run from; `berth-ctr images export` (an OCI layout
// with Docker's manifest.json) loaded with `docker load` and run by Docker. A private dockerd
// (support/dockerd.ts) for the file, under the leak-check lock from before it starts until after
// it is gone; each test is leak-checked as well.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertNoLeaks, snapshotLeaks, testImageTar, type LeakSnapshot } from './support/index.js';
import { acquireLock, releaseLock } from './support/lock.js';
import { useContainerd } from './support/containerd.js';
import { importTestImage, startDockerd, type Dockerd } from './support/dockerd.js';
import type { Containerd } from './030-containerd-support.js';

const DOCKER_IMAGE = 'berth-test/busybox:latest';
let d: Dockerd | undefined;
let startError: unknown;
let fileBefore: LeakSnapshot | undefined;

beforeAll(async () => {
  try {
    await acquireLock();
    fileBefore = snapshotLeaks();
    d = await startDockerd({ debug: false });
    await importTestImage(d, testImageTar(), DOCKER_IMAGE);
    // Docker makes its cgroup parent with the first container and keeps it until it stops: make
    // it now, so the per-test leak checks do not count it (afterAll's check does, after stop).
    await d.dockerOk(['run', '--rm', '--network', 'none', DOCKER_IMAGE, 'true'], { timeoutMs: 120_000 });
  } catch (e) {
    startError = e;
  }
}, 18 * 60_000);

afterAll(async () => {
  try {
    if (d) await d.stop();
    if (fileBefore) await assertNoLeaks(fileBefore, { settleMs: 5_000 });
  } finally {
    releaseLock();
  }
}, 120_000);

function docker(): Dockerd {
  if (!d) throw new Error(`the private dockerd did not start: ${String(startError)}`);
  return d;
}

async function ok(c: Containerd, args: string[]): Promise<string> {
  const r = await c.ctr(args, 120_000);
  if (r.code !== 0) throw new Error(`berth-ctr ${args.join(' ')} exited ${r.code}:\n${r.stdout}${r.stderr}\n--- containerd log tail:\n${c.log().slice(-3000)}`);
  return r.stdout;
}

describe('image archives between Docker and berth-ctr', () => {
  const containerd = useContainerd();

  it('imports a docker save archive and runs from it', async () => {
    const dk = docker();
    const c = containerd();
    await c.start();
    const tar = join(c.roots.dir, 'saved.tar');
    await dk.dockerOk(['save', '-o', tar, DOCKER_IMAGE], { timeoutMs: 120_000 });
    const out = await ok(c, ['images', 'import', tar]);
    expect(out).toContain('docker.io/berth-test/busybox:latest');
    expect(await ok(c, ['images', 'check'])).toMatch(/docker\.io\/berth-test\/busybox:latest\s+application\/vnd\.docker\.distribution\.manifest\.v2\+json\s+\S+\s+complete \(3\/3\)/);
    // Short names are normalized as Docker does.
    const r = await c.ctr(['run', '--rm', 'berth-test/busybox', 'ds1', 'sh', '-c', 'head -1 /etc/passwd; exit 3'], 120_000);
    expect(r.stdout.replace(/\r/g, '')).toBe('root:x:0:0:root:/root:/bin/sh\n');
    expect(r.code).toBe(3);
  });

  it('exports an image that docker load takes and docker runs', async () => {
    const dk = docker();
    const c = containerd();
    await c.start();
    const built = join(testImageTar(), '..', 'busybox-oci.tar');
    await ok(c, ['images', 'import', built]);
    const tar = join(c.roots.dir, 'export.tar');
    await ok(c, ['images', 'export', tar, 'docker.io/berth/busybox:latest']);
    const loaded = await dk.dockerOk(['load', '-i', tar], { timeoutMs: 120_000 });
    expect(loaded).toContain('berth/busybox:latest');
    const r = await dk.docker(['run', '--rm', '--network', 'none', 'berth/busybox:latest', 'sh', '-c', 'echo from docker; exit 4'], { timeoutMs: 120_000 });
    expect(r.stdout).toBe('from docker\n');
    expect(r.code).toBe(4);
    await dk.dockerOk(['rmi', 'berth/busybox:latest']);
  });
});
