// Image storage (issue 4): unpacking a ~100 MB layer and committing a 50 MB diff, Berth against
// Debian's umoci on the same OCI image layout. Berth's storage code runs in this process, as it
// does inside the long-running berth-containerd (it is bundled here with esbuild); umoci is a CLI
// (a Go binary, ~10 ms to start). umoci also writes an mtree manifest of what it unpacks, and
// always gzips what it repacks, so the diff is measured both plain and gzipped (level 1).
//
// Docker (Debian's docker.io, where installed) is a peer too, on a private dockerd started once
// per workload that has it, in its setup, and removed in its teardown (test-e2e/support/dockerd.ts:
// its own data root, exec root, socket and cgroup parent; overlay2; no bridge, no iptables):
// - unpack: `docker import` of the same layer tar (the CLI streams it to the daemon, which
//   unpacks it into a new overlay2 layer and computes its diff ID). Before each run (untimed) the
//   previous run's image is removed, so every import unpacks into a layer Docker does not already
//   have (else it unpacks, finds the chain ID taken and deletes what it unpacked).
// - commit (plain only: Docker keeps layers uncompressed and gzips only on push): `docker
//   commit` of a stopped container, made from the busybox test image (`docker import`), that wrote
//   the same 200 × 256 KiB of random files as Berth's (`docker run -i ... tar -x`). Docker's commit
//   takes the container layer's diff as a tar and registers it as a new layer (applies it into a
//   new overlay2 directory). The previous run's image is again removed before each run, untimed.
// Docker's figures include the CLI's start (a Go binary) and the API round trips; Berth's storage
// code runs in this process. The workloads with Docker hold the machine-wide test lock
// (test-e2e/support/lock.ts), so no leak-checked test of another runner meets this dockerd.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
let n = 0;
/** Each workload's ctx, for its summary (which gets only the medians). */
const workloadState = {};

/** Berth's storage code as one CommonJS file (beside the repo's node_modules for better-sqlite3). */
async function loadBerth() {
  const esbuild = await import('esbuild');
  const out = join(repo, 'build', 'bench', 'image-storage-driver.cjs');
  await esbuild.build({
    stdin: {
      contents: `export { ImageStorage } from './packages/containerd/src/images/index.ts';
        export { applyLayer } from './packages/containerd/src/diff/index.ts';`,
      resolveDir: repo, loader: 'ts',
    },
    bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: out,
    external: ['better-sqlite3'], logLevel: 'error',
  });
  process.env.BERTH_RUNC_NATIVE_DIR ??= join(repo, 'packages/runc/native/build');
  return createRequire(out)(out);
}

/** The e2e support code (TypeScript) for the private dockerd, bundled with esbuild; vitest stubbed. */
let supportPromise;
function support() {
  supportPromise ??= (async () => {
    const esbuild = await import('esbuild');
    const dir = join(repo, 'build', 'bench');
    mkdirSync(dir, { recursive: true });
    const out = join(dir, `image-storage-support-${process.pid}.mjs`);
    const vitestStub = {
      name: 'vitest-stub',
      setup(b) {
        b.onResolve({ filter: /^vitest$/ }, () => ({ path: 'vitest', namespace: 'stub' }));
        b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
          contents: 'const no = () => { throw new Error("not inside a test"); };\nexport const onTestFinished = no, afterEach = no, beforeEach = no;\n',
          loader: 'js',
        }));
      },
    };
    await esbuild.build({
      stdin: {
        contents: [
          "export { startDockerd, importTestImage } from './test-e2e/support/dockerd.ts';",
          "export { testImageTar } from './test-e2e/support/test-image.ts';",
          "export { acquireLock, releaseLock } from './test-e2e/support/lock.ts';",
        ].join('\n'),
        resolveDir: repo, loader: 'ts', sourcefile: 'bench-image-storage-support.ts',
      },
      outfile: out, bundle: true, platform: 'node', target: 'node20', format: 'esm',
      plugins: [vitestStub], logLevel: 'warning',
    });
    try {
      return await import(pathToFileURL(out).href);
    } finally {
      rmSync(out, { force: true });
    }
  })();
  return supportPromise;
}

/** Debian's docker.io and what its dockerd needs (dockerBinaries() in dockerd.ts, without throwing). */
const dockerAvailable = () => {
  const bin = (env, path, name) => (process.env[env] ? existsSync(process.env[env]) : existsSync(path) || has(name));
  return bin('BERTH_DOCKERD', '/usr/sbin/dockerd', 'dockerd') && bin('BERTH_DOCKER_CLI', '/usr/bin/docker', 'docker') &&
    ['containerd', 'containerd-shim-runc-v2', 'runc'].every(has);
};

/** Starts the private dockerd (under the test lock); a failure is kept and shown as the peer's error. */
async function startDocker(ctx) {
  if (!dockerAvailable()) return;
  try {
    const s = await support();
    await s.acquireLock();
    ctx.locked = true;
    ctx.docker = await s.startDockerd({ debug: false });
    // The docker CLI's argv, as the harness spawns it (with this process' environment).
    ctx.dockerCli = [ctx.docker.cli[0], '--config', ctx.docker.clientEnv.DOCKER_CONFIG, ...ctx.docker.cli.slice(1)];
  } catch (e) {
    ctx.dockerError = e instanceof Error ? e.message : String(e);
  }
}

/** The docker CLI against the private dockerd, to its end; throws unless it exits 0. */
function dockerSync(ctx, args, input) {
  const r = spawnSync(ctx.dockerCli[0], [...ctx.dockerCli.slice(1), ...args], { input, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr ?? '').trim()}`);
  return r.stdout;
}

/** A peer's run: removes the previous run's image (untimed), then the timed docker command. */
function dockerRun(ctx, args) {
  if (ctx.dockerError || !ctx.dockerCli) throw new Error(ctx.dockerError ?? 'no dockerd');
  if (ctx.dockerLast) dockerSync(ctx, ['rmi', ctx.dockerLast]);
  ctx.dockerLast = `berth-bench/run:${n++}`;
  return [...ctx.dockerCli, ...args(ctx.dockerLast)];
}

/** Removes Docker's containers and images, the daemon and everything it made; what is left goes in ctx.left. */
async function stopDocker(ctx) {
  const d = ctx.docker;
  const left = [];
  try {
    if (d) {
      try {
        const ids = dockerSync(ctx, ['ps', '-aq']).split('\n').filter(Boolean);
        if (ids.length) dockerSync(ctx, ['rm', '-f', ...ids]);
        const images = dockerSync(ctx, ['images', '-q']).split('\n').filter(Boolean);
        if (images.length) dockerSync(ctx, ['rmi', '-f', ...new Set(images)]);
        const still = dockerSync(ctx, ['ps', '-aq']) + dockerSync(ctx, ['images', '-q']);
        if (still.trim()) left.push(`docker containers/images: ${still.trim().replace(/\n/g, ' ')}`);
      } catch (e) {
        left.push(e.message);
      }
      // overlay2 diffs natively (its upper directory) or naively (comparing with the lower layers).
      ctx.dockerDiff = /Not using native diff/.test(d.logTail(400, /native diff/)) ? 'naive' : 'native';
      const forced = await d.stop().catch((e) => [`dockerd teardown: ${e.message}`]);
      if (forced.length) process.stderr.write(`\nbench: dockerd teardown forced: ${forced.join('; ')}\n`);
      // What teardown must have removed: its roots, mounts and cgroups.
      if (existsSync(d.dir)) left.push(d.dir);
      const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(d.dir));
      left.push(...mounts.map((m) => `mount ${m}`));
      const cgroups = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => / - cgroup2? /.test(l))
        .map((l) => join(l.split(' ')[4], d.cgroupParent)).filter((c) => existsSync(c));
      left.push(...cgroups.map((c) => `cgroup ${c}`));
    }
  } finally {
    if (ctx.locked) (await support()).releaseLock();
    ctx.locked = false;
  }
  if (left.length) {
    ctx.left = left.join('; ');
    process.stderr.write(`\nbench: left behind: ${ctx.left}\n`);
  }
}

function sha256(buf) {
  return createHash('sha256').update(buf).digest('hex');
}

/** An OCI layout holding one image with one plain-tar layer made by GNU tar from `src`. */
function writeLayout(dir, src) {
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const layer = execFileSync('tar', ['--numeric-owner', '-cf', '-', '-C', src, '.'], { maxBuffer: 1 << 30 });
  const put = (b) => {
    const h = sha256(b);
    writeFileSync(join(blobs, h), b);
    return { digest: `sha256:${h}`, size: b.length };
  };
  const l = put(layer);
  const config = put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [l.digest] }, config: {} })));
  const manifest = put(Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...l }],
  })));
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'bench' } }] }));
  return { layer: l, bytes: layer.length };
}

/** `count` files of `size` random bytes in a few directories (random: compression gains nothing). */
function fill(dir, count, size, tag) {
  for (let i = 0; i < count; i++) {
    const d = join(dir, `${tag}${i % 10}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `f${i}`), randomBytes(size));
  }
}

async function setupBase(ctx) {
  ctx.dir = mkdtempSync('/tmp/berth-bench-img-');
  const src = join(ctx.dir, 'src');
  fill(src, 400, 256 << 10, 'usr/lib/d'); // 100 MiB
  ctx.layout = join(ctx.dir, 'layout');
  ctx.base = writeLayout(ctx.layout, src);
  rmSync(src, { recursive: true });
  ctx.berth = await loadBerth();
  ctx.storage = await ctx.berth.ImageStorage.open(join(ctx.dir, 'berth'));
  await ctx.storage.importOciLayout('default', ctx.layout, { name: 'bench/base' });
}

async function teardown(ctx) {
  await stopDocker(ctx);
  ctx.storage?.close();
  if (ctx.dir) {
    spawnSync('sh', ['-c', `grep -o " ${ctx.dir}[^ ]*" /proc/self/mountinfo | xargs -r -n1 umount -l`]);
    rmSync(ctx.dir, { recursive: true, force: true });
  }
}

export const workloads = [
  {
    name: 'unpack a 100 MiB layer',
    async setup(ctx) {
      workloadState.unpack = ctx;
      await setupBase(ctx);
      await startDocker(ctx);
    },
    teardown,
    // Each run unpacks into a fresh snapshot (as a first pull does); outputs are removed at the end.
    berth: async (ctx) => {
      const key = `bench-${n++}`;
      const sn = ctx.storage.snapshotter;
      sn.prepare(key, '');
      const r = await ctx.berth.applyLayer(sn.upperDir(key), [], ctx.storage.content.read(ctx.base.layer.digest));
      if (r.diffId !== ctx.base.layer.digest) throw new Error(`diff ID ${r.diffId} is not ${ctx.base.layer.digest}`);
      sn.commit(`layer-${key}`, key);
    },
    peers: [
      { name: 'umoci unpack', available: () => has('umoci'), run: (ctx) => ['umoci', 'unpack', '--image', `${ctx.layout}:bench`, join(ctx.dir, `umoci-${n++}`)] },
      // The same plain tar as Berth's layer (the blob in the layout).
      { name: 'docker import (docker.io 20.10, overlay2)', available: dockerAvailable, run: (ctx) => dockerRun(ctx, (ref) => ['import', join(ctx.layout, 'blobs', 'sha256', ctx.base.layer.digest.slice(7)), ref]) },
    ],
    summary: () => (workloadState.unpack?.left ? `LEFT BEHIND: ${workloadState.unpack.left}` : undefined),
  },
  ...['plain', 'gzip'].map((mode) => ({
    name: `commit a 50 MiB diff (${mode})`,
    async setup(ctx) {
      workloadState[mode] = ctx;
      await setupBase(ctx);
      // A container on the base that wrote 50 MiB of new files.
      const { chainId } = await ctx.storage.unpack('default', 'bench/base:bench');
      ctx.storage.snapshotter.prepare('ctr', chainId);
      fill(ctx.storage.snapshotter.upperDir('ctr'), 200, 256 << 10, 'srv/data');
      // umoci: the same change in an unpacked bundle, repacked into the layout.
      if (has('umoci')) {
        ctx.bundle = join(ctx.dir, 'bundle');
        execFileSync('umoci', ['unpack', '--image', `${ctx.layout}:bench`, ctx.bundle]);
        fill(join(ctx.bundle, 'rootfs'), 200, 256 << 10, 'srv/data');
      }
      // Docker: a stopped container from the busybox test image that wrote the same files.
      if (mode === 'plain') {
        await startDocker(ctx);
        if (ctx.docker) {
          try {
            const s = await support();
            await s.importTestImage(ctx.docker, s.testImageTar(), 'berth-bench/busybox:latest');
            const src = join(ctx.dir, 'docker-diff');
            fill(src, 200, 256 << 10, 'srv/data');
            const tar = execFileSync('tar', ['--numeric-owner', '-cf', '-', '-C', src, '.'], { maxBuffer: 1 << 30 });
            rmSync(src, { recursive: true });
            ctx.dockerContainer = `berth-bench-${process.pid}`;
            dockerSync(ctx, ['run', '-i', '--name', ctx.dockerContainer, '--network', 'none', 'berth-bench/busybox:latest', 'tar', '-xf', '-', '-C', '/'], tar);
            const du = dockerSync(ctx, ['container', 'inspect', '--format', '{{.State.Status}} {{.GraphDriver.Data.UpperDir}}', ctx.dockerContainer]).trim().split(' ');
            if (du[0] !== 'exited') throw new Error(`container ${ctx.dockerContainer} is ${du[0]}, not exited`);
            ctx.dockerUpperBytes = Number(execFileSync('du', ['-sb', du[1]], { encoding: 'utf8' }).split('\t')[0]);
          } catch (e) {
            ctx.dockerError = e.message;
          }
        }
      }
    },
    teardown,
    berth: async (ctx) => {
      await ctx.storage.diff('ctr', { gzip: mode === 'gzip' });
    },
    peers: mode === 'gzip'
      ? [{ name: 'umoci repack', available: () => has('umoci'), run: (ctx) => ['umoci', 'repack', '--image', `${ctx.layout}:bench-${n++}`, ctx.bundle] }]
      : [{ name: 'docker commit (docker.io 20.10, overlay2)', available: dockerAvailable, run: (ctx) => dockerRun(ctx, (ref) => ['commit', ctx.dockerContainer, ref]) }],
    summary: () => {
      const c = workloadState[mode];
      const parts = [];
      if (c?.dockerUpperBytes) parts.push(`Docker's container layer: ${(c.dockerUpperBytes / 2 ** 20).toFixed(1)} MiB, overlay2 ${c.dockerDiff} diff`);
      if (c?.left) parts.push(`LEFT BEHIND: ${c.left}`);
      return parts.join('; ') || undefined;
    },
  })),
];

