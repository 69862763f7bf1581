import { describe, expect, it } from 'vitest';
import { hostConfigFromRequest } from '../config/from-request.js';
import type { DockerConfig } from '../config/docker-types.js';
import { DEFAULT_CAPS, MASKED_PATHS, buildSpec, capabilities } from './spec.js';

const config = { Hostname: 'h', Domainname: '', User: '', Tty: false, Env: [], Cmd: ['sh'], WorkingDir: '', Labels: {} } as unknown as DockerConfig;
const spec = (h: Parameters<typeof hostConfigFromRequest>[0]) => buildSpec({
  id: 'x', config, hostConfig: hostConfigFromRequest(h), rootfs: '/r', args: ['sh'], env: [], user: { uid: 0, gid: 0, additionalGids: [] },
  hostnamePath: '/h', hostsPath: '/hs', resolvConfPath: '/rc', initBinary: '/usr/bin/tini-static', cgroupsPath: '/berth-x',
}) as any; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('buildSpec (Docker\'s defaults and run options)', () => {
  it('defaults: caps, masked/read-only paths, seccomp, namespaces, shm 64m', () => {
    const s = spec({});
    expect(s.process.capabilities.bounding).toEqual(DEFAULT_CAPS);
    expect(s.linux.maskedPaths).toEqual(MASKED_PATHS);
    expect(s.linux.seccomp.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(s.linux.seccomp.syscalls.some((r: { names: string[] }) => r.names.includes('mount'))).toBe(false);
    expect(s.linux.namespaces.map((n: { type: string }) => n.type).sort()).toEqual(['ipc', 'mount', 'network', 'pid', 'uts']);
    expect(s.mounts.find((m: { destination: string }) => m.destination === '/dev/shm').options).toContain(`size=${64 * 1024 * 1024}`);
    expect(s.process.noNewPrivileges).toBe(false);
  });
  it('limits, ulimits, read-only, init, no-new-privileges, host namespaces', () => {
    const s = spec({
      resources: { memory: 64 * 1024 * 1024, nanoCpus: 1_500_000_000, pidsLimit: 50, ulimits: [{ name: 'nofile', soft: 10, hard: 20 }] },
      readonlyRootfs: true, init: true, securityOpt: ['no-new-privileges'], pidMode: 'host', networkMode: 'host', shmSize: 1 << 20,
    });
    expect(s.linux.resources.memory).toEqual({ limit: 64 * 1024 * 1024, swap: 128 * 1024 * 1024 });
    expect(s.linux.resources.cpu).toEqual({ period: 100000, quota: 150000 });
    expect(s.linux.resources.pids).toEqual({ limit: 50 });
    expect(s.process.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', soft: 10, hard: 20 }]);
    expect(s.root.readonly).toBe(true);
    expect(s.process.args).toEqual(['/sbin/docker-init', '--', 'sh']);
    expect(s.mounts).toContainEqual({ destination: '/sbin/docker-init', type: 'bind', source: '/usr/bin/tini-static', options: ['bind', 'ro'] });
    expect(s.process.noNewPrivileges).toBe(true);
    expect(s.linux.namespaces.map((n: { type: string }) => n.type).sort()).toEqual(['ipc', 'mount', 'uts']);
  });
  it('privileged: every cap, no masks, no seccomp', () => {
    const s = spec({ privileged: true });
    expect(s.process.capabilities.bounding).toContain('CAP_SYS_ADMIN');
    expect(s.linux.maskedPaths).toBeUndefined();
    expect(s.linux.seccomp).toBeUndefined();
  });
  it('cap-add/cap-drop as Docker, with ALL', () => {
    expect(capabilities(['NET_ADMIN'], ['CHOWN'], false)).toEqual([...DEFAULT_CAPS.filter((c) => c !== 'CAP_CHOWN'), 'CAP_NET_ADMIN']);
    expect(capabilities(['KILL'], ['ALL'], false)).toEqual(['CAP_KILL']);
    expect(() => capabilities(['BOGUS'], null, false)).toThrow('unknown capability');
  });
  it('refuses bad options', () => {
    expect(() => hostConfigFromRequest({ restartPolicy: { name: 'always' }, autoRemove: true })).toThrow('--restart and --rm');
    expect(() => hostConfigFromRequest({ logConfig: { config: { 'max-size': 'lots' } } })).toThrow('invalid max-size');
    expect(() => hostConfigFromRequest({ networkMode: 'mynet' })).toThrow('not found');
  });
});
