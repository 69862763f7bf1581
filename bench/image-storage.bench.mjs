// Image storage (issue 4): unpacking a ~100 MB layer and committing a 50 MB diff, Berth against
// Debian's umoci on the same OCI image layout. Berth's storage code runs in this process, as it
// does inside the long-running berth-containerd (it is bundled here with esbuild); umoci is a CLI
// (a Go binary, ~10 ms to start). umoci also writes an mtree manifest of what it unpacks, and
// always gzips what it repacks, so the diff is measured both plain and gzipped (level 1).
// Docker's import/commit needs a running dockerd and is not measured here.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
let n = 0;

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

function teardown(ctx) {
  ctx.storage?.close();
  if (ctx.dir) {
    spawnSync('sh', ['-c', `grep -o " ${ctx.dir}[^ ]*" /proc/self/mountinfo | xargs -r -n1 umount -l`]);
    rmSync(ctx.dir, { recursive: true, force: true });
  }
}

export const workloads = [
  {
    name: 'unpack a 100 MiB layer',
    setup: setupBase,
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
    ],
  },
  ...['plain', 'gzip'].map((mode) => ({
    name: `commit a 50 MiB diff (${mode})`,
    async setup(ctx) {
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
    },
    teardown,
    berth: async (ctx) => {
      await ctx.storage.diff('ctr', { gzip: mode === 'gzip' });
    },
    peers: mode === 'gzip'
      ? [{ name: 'umoci repack', available: () => has('umoci'), run: (ctx) => ['umoci', 'repack', '--image', `${ctx.layout}:bench-${n++}`, ctx.bundle] }]
      : [],
  })),
];

