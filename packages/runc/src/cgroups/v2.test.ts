import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CgroupV2, sharesToWeight } from './v2.js';

/**
 * cgroup v2 against a fake hierarchy: plain files where the kernel's would be (this machine is
 * v1). What is checked is what the kernel documentation says each file takes.
 */
describe('cgroup v2 on a fake hierarchy', () => {
  let root: string;
  const files = ['cgroup.procs', 'cgroup.freeze', 'cgroup.events', 'memory.max', 'memory.low', 'memory.swap.max', 'cpu.weight', 'cpu.max', 'cpuset.cpus', 'pids.max', 'io.weight', 'memory.events'];

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'berth-cg2-'));
    writeFileSync(join(root, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc\n');
    writeFileSync(join(root, 'cgroup.subtree_control'), '');
    mkdirSync(join(root, 'berth'));
    writeFileSync(join(root, 'berth', 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
    writeFileSync(join(root, 'berth', 'cgroup.subtree_control'), '');
    mkdirSync(join(root, 'berth', 'c1'));
    for (const f of files) writeFileSync(join(root, 'berth', 'c1', f), '');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const read = (...p: string[]) => readFileSync(join(root, ...p), 'utf8');

  it('enables controllers down the tree and writes limits in v2 units', () => {
    const cg = new CgroupV2('/berth/c1', root);
    cg.create({ memory: { limit: 64 << 20, swap: 96 << 20 }, cpu: { shares: 1024, quota: 50000, period: 100000, cpus: '0' }, pids: { limit: 20 }, blockIO: { weight: 500 } });
    expect(read('cgroup.subtree_control')).toBe('+cpuset +cpu +io +memory +hugetlb +pids');
    expect(read('berth', 'cgroup.subtree_control')).toBe('+cpuset +cpu +io +memory +pids');
    expect(read('berth', 'c1', 'memory.max')).toBe(String(64 << 20));
    expect(read('berth', 'c1', 'memory.swap.max')).toBe(String(32 << 20)); // OCI swap is memory+swap
    expect(read('berth', 'c1', 'cpu.weight')).toBe(String(sharesToWeight(1024)));
    expect(read('berth', 'c1', 'cpu.max')).toBe('50000 100000');
    expect(read('berth', 'c1', 'pids.max')).toBe('20');
    expect(read('berth', 'c1', 'io.weight')).toBe('default 4950');
    expect(cg.procsFiles()).toEqual([join(root, 'berth', 'c1', 'cgroup.procs')]);
  });

  it('converts shares to weight at the documented end points', () => {
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(262144)).toBe(10000);
  });

  it('refuses device rules, which need eBPF, but accepts allow-all', () => {
    const cg = new CgroupV2('/berth/c1', root);
    expect(() => cg.create({ devices: [{ allow: false, access: 'rwm' }] })).toThrow(/eBPF/);
    expect(() => cg.update({ devices: [{ allow: true, access: 'rwm' }] })).not.toThrow();
  });

  it('freezes through cgroup.freeze and reads the state from cgroup.events', async () => {
    const cg = new CgroupV2('/berth/c1', root);
    writeFileSync(join(root, 'berth', 'c1', 'cgroup.events'), 'populated 1\nfrozen 1\n'); // the kernel's answer
    await cg.freeze();
    expect(read('berth', 'c1', 'cgroup.freeze')).toBe('1');
    expect(cg.isFrozen()).toBe(true);
    cg.thaw();
    expect(read('berth', 'c1', 'cgroup.freeze')).toBe('0');
  });

  it('reads pids and OOM kills', () => {
    writeFileSync(join(root, 'berth', 'c1', 'cgroup.procs'), '12\n34\n');
    writeFileSync(join(root, 'berth', 'c1', 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 2\noom_kill 2\n');
    const cg = new CgroupV2('/berth/c1', root);
    expect(cg.pids()).toEqual([12, 34]);
    expect(cg.oomKills()).toBe(2);
  });
});
