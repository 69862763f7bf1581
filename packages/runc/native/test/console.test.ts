/**
 * The console socket: the container process makes a pty from its own /dev/ptmx and sends the
 * master with SCM_RIGHTS the way runc does; build/recvtty receives it the way runc's recvtty
 * and containerd do (name as body, exactly one fd).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RECVTTY, Run, build, containerPlan, killAll, makeRootfs, removeDir } from './harness';

let dir: string;
let rootfs: string;
const receivers: ChildProcess[] = [];
beforeAll(() => {
  build();
  ({ dir, rootfs } = makeRootfs());
});
afterEach(() => {
  killAll();
  for (const r of receivers.splice(0)) r.kill('SIGKILL');
});
afterAll(() => removeDir(dir));

/** Starts recvtty; resolves once it listens. `output` collects what it prints. */
async function receiver(socket: string, input: string): Promise<{ proc: ChildProcess; output: () => string; done: Promise<number | null> }> {
  const proc = spawn(RECVTTY, [socket, input], { stdio: ['ignore', 'pipe', 'pipe'] });
  receivers.push(proc);
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<number | null>((res) => proc.on('exit', (code) => res(code)));
  for (let i = 0; i < 200 && !out.includes('listening'); i++) await new Promise((r) => setTimeout(r, 10));
  if (!out.includes('listening')) throw new Error(`recvtty did not start: ${err}`);
  return { proc, output: () => out + err, done };
}

describe('console socket', () => {
  it('delivers a pty master; the process has the slave as stdio and controlling terminal', async () => {
    const socket = join(dir, 'console.sock');
    const rx = await receiver(socket, 'echo answer=$((6*7)); tty; stty size; exit 3\n');
    const run = new Run(
      containerPlan(rootfs, ['sh'], [['console', socket], ['consolesize', 33, 101], ['env', 'TERM=xterm'], ['user', 0, 0]]),
      { dir },
    );
    await run.waitFor('ready');
    expect(await run.exitStatus()).toBe(3);
    expect(await rx.done).toBe(0);
    const out = rx.output().replace(/\r/g, '');
    expect(out).toMatch(/^listening\nname \/dev\/pts\/0\n/);
    expect(out).toContain('answer=42\n');
    expect(out).toContain('\n/dev/pts/0\n');
    expect(out).toContain('\n33 101\n');
    expect(run.stdout()).toBe(''); // nothing went to the original stdout
  });

  it('a console socket nobody listens on is an error before clone', async () => {
    const run = new Run(containerPlan(rootfs, ['true'], [['console', join(dir, 'nobody.sock')]]), { dir });
    expect(await run.error()).toMatch(/^connect console socket .*nobody\.sock: No such file or directory$/);
    expect(run.records.map((r) => r[0])).toEqual(['error']);
  });
});
