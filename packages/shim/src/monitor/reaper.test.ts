import { spawn } from 'node:child_process';
import { loadAddon } from '@berth/runc';
import { describe, expect, it } from 'vitest';
import { Reaper } from './reaper.js';

// The reaper makes this test process a child subreaper, as the shim is: orphans of its children
// become its children.
const errors: string[] = [];
const reaper = new Reaper(loadAddon(), (m) => errors.push(m));

/** Runs `sh -c script` (a child libuv reaps); resolves with its stdout and exit code. */
function sh(script: string): Promise<{ out: string; code: number | null }> {
  return new Promise((resolve) => {
    const c = spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    c.on('close', (code) => resolve({ out, code }));
  });
}

describe('Reaper', () => {
  it('collects orphans reparented to the shim, with their status; a late watch still gets it', async () => {
    // The shell exits at once; its background child becomes ours.
    const { out, code } = await sh('(sleep 0.2; exit 7) & echo $!; exit 0');
    expect(code).toBe(0); // libuv got its own child's exit: the reaper did not take it
    const pid = Number(out.trim());
    expect(await reaper.watch(pid)).toEqual({ pid, exitStatus: 7, signal: 0 });
    // One that ends before anyone watches it (a fast exec): SIGCHLD reaps it and keeps its status.
    const fast = await sh('(sleep 0.05; exit 5) >/dev/null & echo $!; exit 0');
    const fastPid = Number(fast.out.trim());
    await new Promise((r) => setTimeout(r, 300));
    expect((reaper as unknown as { unclaimed: Map<number, unknown> }).unclaimed.has(fastPid)).toBe(true);
    expect(await reaper.watch(fastPid)).toEqual({ pid: fastPid, exitStatus: 5, signal: 0 });
  });

  it('a death by signal is 128+N', async () => {
    const { out } = await sh('sleep 30 >/dev/null & echo $!');
    const pid = Number(out.trim());
    const exited = reaper.watch(pid);
    process.kill(pid, 'SIGKILL');
    expect(await exited).toEqual({ pid, exitStatus: 137, signal: 9 });
  });

  it("never takes libuv's own children: their exit codes reach child_process", async () => {
    const codes = await Promise.all(Array.from({ length: 20 }, (_, i) => sh(`exit ${i}`)));
    expect(codes.map((c) => c.code)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(errors, errors.join("\n")).toEqual([]);
  });
});
