import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { CgroupV1 } from '../cgroups/v1.js';
import { parseMountInfo } from '../mountinfo.js';
import { defaultSpec } from '../spec/default-spec.js';
import { createPlan } from './create-plan.js';
import { MS } from './mount-flags.js';

const HOST_MOUNTS = parseMountInfo(
  [
    '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
    '30 22 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755',
    '31 30 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
    '32 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct',
    '33 22 0:29 / /data rw - ext4 /dev/vdb rw',
  ].join('\n'),
);

describe('create plan', () => {
  const bundle = mkdtempSync(`${tmpdir()}/berth-plan-`);
  afterAll(() => rmSync(bundle, { recursive: true }));
  const hierarchies = [{ mountPoint: '/sys/fs/cgroup/memory', controllers: ['memory'] }, { mountPoint: '/sys/fs/cgroup/cpu,cpuacct', controllers: ['cpu', 'cpuacct'] }];
  const plan = (change: (s: ReturnType<typeof defaultSpec>) => void = () => {}) => {
    const spec = defaultSpec();
    spec.process!.terminal = false;
    change(spec);
    return createPlan({ spec, bundle, rootfs: '/data/c1/rootfs', cgroup: new CgroupV1('/c1', hierarchies), execFifo: '/run/x/exec.fifo', foreground: false, noPivot: false, hostMounts: HOST_MOUNTS, warn: () => {} });
  };

  it('joins the cgroups and unshares the namespaces before anything else', () => {
    const p = plan();
    expect(p.slice(0, 4)).toEqual([['mode', 'create'], ['foreground', 0], ['cgroup', '/sys/fs/cgroup/memory/c1/tasks'], ['cgroup', '/sys/fs/cgroup/cpu,cpuacct/c1/tasks']]);
    expect(p.filter((r) => r[0] === 'unshare').map((r) => r[1])).toEqual(['pid', 'net', 'ipc', 'uts', 'mnt', 'cgroup']);
  });

  it('finds the mount holding the rootfs, for pivot_root', () => {
    expect(plan().find((r) => r[0] === 'parentmount')).toEqual(['parentmount', '/data']);
  });

  it('turns the cgroup mount into a tmpfs and one mount per hierarchy, with aliases for co-mounts', () => {
    const p = plan();
    const cg = p.filter((r) => (r[0] === 'mount' || r[0] === 'symlink') && String(r[2] ?? r[1]).startsWith('/sys/fs/cgroup'));
    expect(cg[0]).toEqual(['mount', 'tmpfs', '/sys/fs/cgroup', 'tmpfs', MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RELATIME, 'mode=755', 0]);
    // The default spec has a cgroup namespace: each hierarchy is mounted, not bound.
    expect(cg[1]).toEqual(['mount', 'cgroup', '/sys/fs/cgroup/memory', 'cgroup', MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RELATIME | MS.RDONLY, 'memory', 0]);
    expect(p).toContainEqual(['symlink', 'cpu,cpuacct', '/sys/fs/cgroup/cpu']);
  });

  it('binds the container cgroup directory when there is no cgroup namespace', () => {
    const p = plan((s) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'cgroup')));
    expect(p).toContainEqual(['mount', '/sys/fs/cgroup/memory/c1', '/sys/fs/cgroup/memory', 'bind', MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RELATIME | MS.RDONLY | MS.BIND | MS.REC, '', 0]);
  });

  it('makes the default devices and links, and masks and protects paths after pivot', () => {
    const p = plan();
    expect(p).toContainEqual(['mknod', '/dev/null', 'c', 1, 3, 0o666, 0, 0]);
    expect(p).toContainEqual(['symlink', 'pts/ptmx', '/dev/ptmx']);
    const pivot = p.findIndex((r) => r[0] === 'pivot');
    expect(p.findIndex((r) => r[0] === 'masked')).toBeGreaterThan(pivot);
    expect(p).toContainEqual(['rootreadonly']);
  });

  it('binds host devices instead of mknod in a new user namespace', () => {
    const p = plan((s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    });
    expect(p).toContainEqual(['binddev', '/dev/null', '/dev/null']);
    expect(p).toContainEqual(['uidmap', 0, 100000, 65536]);
    expect(p.some((r) => r[0] === 'mknod')).toBe(false);
  });

  it('gives the process its identity, privileges and argv', () => {
    const p = plan((s) => (s.process!.user = { uid: 1000, gid: 1000, additionalGids: [10, 20], umask: 0o027 }));
    expect(p).toContainEqual(['user', 1000, 1000]);
    expect(p).toContainEqual(['groups', 10, 20]);
    expect(p).toContainEqual(['umask', '27']);
    expect(p).toContainEqual(['caps', '20000420', '20000420', '20000420', '0', '20000420']);
    expect(p).toContainEqual(['nonewprivs']);
    expect(p).toContainEqual(['arg', 'sh']);
    expect(p).toContainEqual(['env', 'HOME=/']);
    expect(p.at(-1)).toEqual(['execfifo', '/run/x/exec.fifo']);
  });

  it('pauses for hooks only when there are some, and passes container hooks on', () => {
    expect(plan().some((r) => r[0] === 'hookpause')).toBe(false);
    const p = plan((s) => (s.hooks = { startContainer: [{ path: '/bin/true', args: ['true', '-x'], env: ['A=1'], timeout: 3 }] }));
    expect(p).toContainEqual(['hookpause']);
    expect(p).toContainEqual(['hook', 'startContainer', 3, '/bin/true', 2, 'true', '-x', 'A=1']);
  });

  it('requires a console socket for a terminal', () => {
    expect(() => plan((s) => (s.process!.terminal = true))).toThrow(/--console-socket/);
  });
});
