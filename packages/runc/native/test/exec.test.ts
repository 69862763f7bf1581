/**
 * berth-runc-init in exec mode (joining a running container) and in foreground mode (exit
 * status, signal forwarding).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PlanRecord } from '../../src/plan/records';
import { Run, build, containerPlan, killAll, makeRootfs, nsLink, removeDir, runToExit } from './harness';

let dir: string;
let rootfs: string;
beforeAll(() => {
  build();
  ({ dir, rootfs } = makeRootfs());
});
afterEach(killAll);
afterAll(() => removeDir(dir));

const TYPES = ['ipc', 'uts', 'net', 'pid', 'mnt'];

function execPlan(initPid: number, args: string[], extra: PlanRecord[] = [], foreground = 1): PlanRecord[] {
  return [
    ['mode', 'exec'],
    ['foreground', foreground],
    ...TYPES.map((t): PlanRecord => ['setns', t, `/proc/${initPid}/ns/${t}`]),
    ['env', 'PATH=/bin'],
    ['cwd', '/'],
    ...args.map((a): PlanRecord => ['arg', a]),
    ...extra,
  ];
}

async function startContainer(): Promise<Run> {
  const run = new Run(containerPlan(rootfs, ['sleep', '60'], [['hostname', 'exec-target']]), { dir });
  await run.waitFor('ready');
  return run;
}

describe('exec mode', () => {
  it('joins the running container\'s namespaces and root', async () => {
    const init = await startContainer();
    const ex = new Run(execPlan(init.pid, ['sleep', '30']), { dir });
    await ex.waitFor('ready');
    for (const t of TYPES) expect(nsLink(ex.pid, t), t).toBe(nsLink(init.pid, t));
    expect(nsLink(ex.pid, 'pid')).not.toBe(nsLink('self', 'pid'));
    process.kill(ex.pid, 'SIGKILL');
    expect(await ex.exitStatus()).toBe(137);

    const { status, out } = await runToExit(execPlan(init.pid, ['sh', '-c', 'hostname; echo pid=$$; ls /; ps -o args | grep -c "^sleep 6[0]"']), { dir });
    expect(status).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines[0]).toBe('exec-target');
    expect(lines[1]).toMatch(/^pid=([2-9]|\d\d+)$/); // not 1: the container's init is
    expect(lines).toContain('bin');
    expect(lines.at(-1)).toBe('1'); // sees the container's own sleep 60
  });

  it('sends ready only after execve succeeded; a missing program is an error', async () => {
    const init = await startContainer();
    const ex = new Run(execPlan(init.pid, ['not-there']), { dir });
    expect(await ex.error()).toMatch(/^exec not-there: executable file not found in PATH/);
    expect(ex.records.some((r) => r[0] === 'ready')).toBe(false);
  });

  it('a setns failure names the namespace file', async () => {
    const ex = new Run(execPlan(999999999, ['true']), { dir });
    expect(await ex.error()).toBe('setns ipc: open /proc/999999999/ns/ipc: No such file or directory');
  });

  it('applies the user, caps and no_new_privs of the exec\'d process', async () => {
    const init = await startContainer();
    const { out } = await runToExit(
      execPlan(init.pid, ['sh', '-c', 'id -u; grep -E "^(CapEff|NoNewPrivs)" /proc/self/status'], [['user', 123, 123], ['caps', '0', '0', '0', '0', '0'], ['nonewprivs']]),
      { dir },
    );
    expect(out.replace(/\t/g, ' ')).toBe('123\nCapEff: 0000000000000000\nNoNewPrivs: 1\n');
  });

  it('not foreground: ready, then the helper exits 0', async () => {
    const init = await startContainer();
    const ex = new Run(execPlan(init.pid, ['sleep', '30'], [], 0), { dir });
    await ex.waitFor('ready');
    expect((await ex.exited).code).toBe(0);
    expect(nsLink(ex.pid, 'mnt')).toBe(nsLink(init.pid, 'mnt'));
  });
});

describe('foreground', () => {
  it('reports the exit code', async () => {
    const { status, run } = await runToExit(containerPlan(rootfs, ['sh', '-c', 'exit 42']), { dir });
    expect(status).toBe(42);
    expect(run.records).toEqual([['pid', String(run.pid)], ['ready'], ['exit', '42']]);
  });

  it('reports 128+signal when the process is killed', async () => {
    const run = new Run(containerPlan(rootfs, ['sleep', '60']), { dir });
    await run.waitFor('ready');
    process.kill(run.pid, 'SIGKILL');
    expect(await run.exitStatus()).toBe(128 + 9);
  });

  it('forwards signals to the container process', async () => {
    const run = new Run(
      containerPlan(rootfs, ['sh', '-c', 'trap "echo got-term; exit 7" TERM; trap "echo got-usr1" USR1; echo up; while true; do sleep 0.05; done']),
      { dir },
    );
    await run.waitFor('ready');
    for (let i = 0; i < 100 && !run.stdout().includes('up'); i++) await new Promise((r) => setTimeout(r, 20));
    run.proc.kill('SIGUSR1');
    for (let i = 0; i < 100 && !run.stdout().includes('got-usr1'); i++) await new Promise((r) => setTimeout(r, 20));
    run.proc.kill('SIGTERM');
    expect(await run.exitStatus()).toBe(7);
    expect(run.stdout()).toBe('up\ngot-usr1\ngot-term\n');
  });
});
