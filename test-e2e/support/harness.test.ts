// The harness checks itself: each kind of leak is seen, and seen to go away.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { findLeaks, formatLeaks, snapshotLeaks, tempRoots, testImageTar, testRootfs } from './index.js';
import { acquireLock, releaseLock } from './lock.js';

describe('test harness', () => {
  let firstDir = '';

  it('gives fresh temp roots', () => {
    const r = tempRoots();
    firstDir = r.dir;
    expect(statSync(r.root).isDirectory()).toBe(true);
    expect(statSync(r.state).isDirectory()).toBe(true);
    expect(Buffer.byteLength(join(r.state, 's', 'a'.repeat(12) + '.sock'))).toBeLessThan(108);
  });

  it('removed the previous test\'s roots', () => {
    expect(firstDir).not.toBe('');
    expect(existsSync(firstDir)).toBe(false);
  });

  it('builds the busybox test image', () => {
    const rootfs = testRootfs();
    expect(existsSync(join(rootfs, 'bin/busybox'))).toBe(true);
    expect(existsSync(join(rootfs, 'bin/sh'))).toBe(true);
    expect(statSync(join(rootfs, 'tmp')).mode & 0o7777).toBe(0o1777);
    expect(statSync(testImageTar()).size).toBeGreaterThan(1_000_000);
  });

  describe('leak check', () => {
    afterAll(() => releaseLock());

    it('sees a leaked mount, cgroup, process and fd, and their removal', async () => {
      await acquireLock();
      const r = tempRoots();
      const before = snapshotLeaks();
      const mnt = join(r.dir, 'mnt');
      mkdirSync(mnt);
      execFileSync('mount', ['-t', 'tmpfs', 'leaktest', mnt]);
      const cg = `/sys/fs/cgroup/pids/berth-leak-test-${process.pid}`;
      mkdirSync(cg);
      const child = spawn('sleep', ['30'], { stdio: 'ignore', detached: true });
      const fd = openSync('/dev/null', 'r');
      try {
        await new Promise((res) => setTimeout(res, 50));
        const leaks = findLeaks(before);
        expect(leaks.mounts).toEqual([`${mnt} (tmpfs)`]);
        expect(leaks.cgroups).toEqual([cg]);
        expect(leaks.procs.map((p) => p.pid)).toEqual([child.pid]);
        expect(leaks.fds.some((f) => f === `${fd} -> /dev/null`)).toBe(true);
        const text = formatLeaks(leaks);
        expect(text).toContain('mounts:');
        expect(text).toContain('sleep 30');
      } finally {
        execFileSync('umount', [mnt]);
        rmdirSync(cg);
        child.kill('SIGKILL');
        await new Promise((res) => child.once('exit', res));
        closeSync(fd);
      }
      const after = findLeaks(before);
      expect(formatLeaks(after)).toBe('');
    });
  });
});
