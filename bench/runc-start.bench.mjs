// berth-runc's whole `run` of a `true` container, against Debian's runc and crun on the same
// bundle, and `node -e 0` (Node's own start-up, which berth-runc pays before any work).
// The aim (issue 2): berth-runc's time beyond `node -e 0` is no more than runc's whole run.
// BERTH_RUNC=/path/to/runtime measures another binary in Berth's place (e.g. to try the bench).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const berthRunc = process.env.BERTH_RUNC ?? join(repo, 'packages/runc/dist/berth-runc.cjs');
const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
let n = 0;
const id = (who) => `bench-${who}-${process.pid}-${n++}`;

// crun refuses this machine's hybrid cgroup layout ("cgroups in hybrid mode not supported")
// unless it cannot see the v2 hierarchy: hide /sys/fs/cgroup/unified in a private mount namespace.
const hybrid = existsSync('/sys/fs/cgroup/unified');
const crun = (ctx, ...args) =>
  hybrid
    ? ['unshare', '-m', 'sh', '-c', 'mount -t tmpfs none /sys/fs/cgroup/unified && exec crun "$@"', 'crun', ...args]
    : ['crun', ...args];

export const workloads = [
  {
    name: 'runc run (true)',
    setup(ctx) {
      execFileSync('bash', [join(repo, 'tools/build-test-image.sh')], { stdio: 'inherit' });
      ctx.dir = mkdtempSync('/tmp/berth-bench-');
      ctx.bundle = join(ctx.dir, 'bundle');
      execFileSync('mkdir', ['-p', ctx.bundle]);
      execFileSync('cp', ['-a', join(repo, 'build/test-image/rootfs'), join(ctx.bundle, 'rootfs')]);
      try {
        execFileSync(berthRunc, ['--root', join(ctx.dir, 'berth'), 'spec', '--bundle', ctx.bundle], { stdio: 'pipe' });
      } catch (e) {
        // Still measure the peers; Berth's row will show the error from its own run.
        process.stderr.write(`(berth-runc spec failed, using runc spec for the bundle: ${String(e.message).split('\n')[0]}) `);
        execFileSync('runc', ['spec', '--bundle', ctx.bundle]);
      }
      const config = JSON.parse(readFileSync(join(ctx.bundle, 'config.json'), 'utf8'));
      // Debian's crun 1.8 accepts only 1.0.x bundles ("unknown version specified"); every
      // runtime here reads this bundle the same way at 1.0.2, the version Debian's runc writes.
      config.ociVersion = '1.0.2';
      config.process.args = ['true'];
      config.process.terminal = false;
      writeFileSync(join(ctx.bundle, 'config.json'), JSON.stringify(config, null, 2));
    },
    teardown(ctx) {
      if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
    },
    berth: (ctx) => [berthRunc, '--root', join(ctx.dir, 'berth'), 'run', '--bundle', ctx.bundle, id('berth')],
    summary: (m) =>
      m.berth === undefined || m['node -e 0'] === undefined || m.runc === undefined
        ? undefined
        : `berth-runc beyond node -e 0: ${(m.berth - m['node -e 0']).toFixed(1)} ms; runc's whole run: ${m.runc.toFixed(1)} ms (aim: the first is no more than the second)`,
    peers: [
      {
        name: 'runc',
        available: () => has('runc'),
        run: (ctx) => ['runc', '--root', join(ctx.dir, 'runc'), 'run', '--bundle', ctx.bundle, id('runc')],
      },
      {
        name: 'crun',
        available: () => has('crun') && has('unshare'),
        run: (ctx) => crun(ctx, '--root', join(ctx.dir, 'crun'), 'run', '--bundle', ctx.bundle, id('crun')),
      },
      {
        name: 'node -e 0',
        available: () => true,
        run: [process.execPath, '-e', '0'],
      },
    ],
  },
];
