import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CgroupV1, deviceRuleText, hierarchiesV1 } from './v1.js';
import { openCgroup } from './index.js';

/** cgroup v1 on this machine's real hierarchies (root, hybrid mode). */
describe('cgroup v1', () => {
  const path = `/berth-unit-${process.pid}`;
  let cg: CgroupV1 | undefined;
  afterEach(async () => {
    await cg?.destroy();
    cg = undefined;
  });

  it('finds the mounted hierarchies', () => {
    const names = hierarchiesV1().flatMap((h) => h.controllers);
    for (const c of ['memory', 'pids', 'freezer', 'devices', 'cpu']) expect(names).toContain(c);
  });

  it('creates a cgroup in every hierarchy, applies limits, and removes it', async () => {
    cg = openCgroup(path) as CgroupV1;
    cg.create({ memory: { limit: 64 << 20 }, pids: { limit: 20 }, cpu: { shares: 512 }, devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }] });
    const dirs = cg.directories();
    expect(readFileSync(join(dirs.memory!, 'memory.limit_in_bytes'), 'utf8').trim()).toBe(String(64 << 20));
    expect(readFileSync(join(dirs.pids!, 'pids.max'), 'utf8').trim()).toBe('20');
    expect(readFileSync(join(dirs.cpu!, 'cpu.shares'), 'utf8').trim()).toBe('512');
    expect(readFileSync(join(dirs.devices!, 'devices.list'), 'utf8').trim()).toBe('c 1:3 rwm');
    expect(readFileSync(join(dirs.cpuset!, 'cpuset.cpus'), 'utf8').trim()).not.toBe('');
    expect(cg.joinFiles()).toContain(join(dirs.pids!, 'tasks'));
    expect(cg.joinFiles().every((f) => f.endsWith('/tasks') || f.includes('/unified/'))).toBe(true);
    cg.update({ pids: { limit: 0 } });
    expect(readFileSync(join(dirs.pids!, 'pids.max'), 'utf8').trim()).toBe('max');
    await cg.destroy();
    for (const d of Object.values(dirs)) expect(existsSync(d)).toBe(false);
    cg = undefined;
  });

  it('says which file the kernel refused', () => {
    cg = openCgroup(path) as CgroupV1;
    expect(() => cg!.create({ memory: { limit: 64 << 20, swap: 32 << 20 } })).toThrow(/memsw|memory\.(memsw\.)?limit_in_bytes/);
  });

  it('writes device rules as the devices controller reads them', () => {
    expect(deviceRuleText({ allow: false, access: 'rwm' })).toBe('a *:* rwm');
    expect(deviceRuleText({ allow: true, type: 'c', major: 136, minor: null, access: 'rwm' })).toBe('c 136:* rwm');
  });
});
