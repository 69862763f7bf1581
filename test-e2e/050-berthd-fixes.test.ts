// berthd fixes found by the CLI's engineer, each through berth.engine.v1: attach before start,
// exec input sent early, StdinOnce with a terminal, the exit recorded before it is told, no
// network warning by default, healthchecks, AutoRemove kept by berthd.
import { afterEach, describe, expect, it } from 'vitest';
import { tempRoots, useLeakCheck } from './support/index.js';
import { Berthd, prerequisites, sleep, waitFor } from './050-berthd-support.js';

function useBerthd(): () => Berthd {
  useLeakCheck({ settleMs: 3000 });
  const made: Berthd[] = [];
  afterEach(async () => {
    for (const d of made.splice(0)) await d.cleanup();
  });
  return () => {
    prerequisites();
    const d = new Berthd(tempRoots());
    made.push(d);
    return d;
  };
}

interface Attached {
  out: () => string;
  write: (m: object) => void;
  attached: Promise<void>;
  done: Promise<{ exit?: number; detached: boolean }>;
}

/** An Attach (or ExecStart) stream: output collected, the `attached` ack, the end. */
function attachStream(d: Berthd, start: object, kind: 'attach' | 'execStart' = 'attach'): Attached {
  const c = d.api().containers;
  const s = (kind === 'attach' ? c.attach() : c.execStart()) as unknown as { on(ev: string, fn: (m: never) => void): void; write(m: object): void };
  let out = '';
  let onAttached: () => void = () => undefined;
  const attached = new Promise<void>((r) => { onAttached = r; });
  const done = new Promise<{ exit?: number; detached: boolean }>((resolve, reject) => {
    let exit: number | undefined;
    let detached = false;
    s.on('data', (m: { stdout?: Uint8Array; stderr?: Uint8Array; exit?: { statusCode: unknown }; detached?: boolean; attached?: boolean }) => {
      if (m.attached) onAttached();
      if (m.stdout) out += Buffer.from(m.stdout).toString();
      if (m.stderr) out += Buffer.from(m.stderr).toString();
      if (m.exit) exit = Number(String(m.exit.statusCode));
      if (m.detached) detached = true;
    });
    s.on('error', reject);
    s.on('end', () => resolve({ exit, detached }));
  });
  done.catch(() => undefined);
  s.write({ start });
  return { out: () => out, write: (m) => s.write(m), attached, done };
}

describe('berthd fixes', () => {
  const berthd = useBerthd();

  it('no network warning by default, one note in info; --network bridge still warns', async () => {
    const d = berthd();
    await d.start();
    await d.importBusybox();
    const c = await d.call('containers', 'create', { config: { image: 'busybox', cmd: ['true'] } });
    expect(c.warnings ?? []).toEqual([]);
    const b = await d.call('containers', 'create', { config: { image: 'busybox', cmd: ['true'] }, hostConfig: { networkMode: 'bridge' } });
    expect(b.warnings).toEqual([expect.stringContaining('bridge networking is not implemented yet')]);
    const info = await d.call('system', 'info', {});
    expect(info.warnings).toEqual([expect.stringContaining('loopback only')]);
  });

  it('StdinOnce with a terminal: detaching leaves the shell its stdin (as Docker: only without a TTY)', async () => {
    const d = berthd();
    await d.start();
    await d.importBusybox();
    const id = await d.run('tty', ['sh'], {}, { tty: true, openStdin: true, stdinOnce: true, attachStdin: true });
    expect(((await d.inspect(id)).Config as unknown as { StdinOnce: boolean }).StdinOnce).toBe(true);
    const a = attachStream(d, { id, stdin: true, stdout: true, stderr: true });
    a.write({ stdin: Buffer.from('echo mark-$((6*7))\n') });
    await waitFor(() => a.out().includes('mark-42'));
    a.write({ stdin: Buffer.from([0x10, 0x11]) });
    expect((await a.done).detached).toBe(true);
    await sleep(700);
    expect((await d.inspect(id)).State.Running).toBe(true);
    // Without a terminal, the end of the first attach closes stdin: cat ends.
    const cid = await d.run('cat1', ['cat'], {}, { openStdin: true, stdinOnce: true, attachStdin: true });
    const b = attachStream(d, { id: cid, stdin: true, stdout: true, stderr: true });
    b.write({ stdin: Buffer.from('x\n') });
    await waitFor(() => b.out().includes('x'));
    b.write({ closeStdin: true });
    expect((await b.done).exit).toBe(0);
  });
});

describe('berthd fixes: attach before start, exec input, exits, AutoRemove', () => {
  const berthd = useBerthd();

  it('attach joins a created container before Start: a prompt printed at once is not lost; start -a of an exited one does not replay the last run', async () => {
    const d = berthd();
    await d.start();
    await d.importBusybox();
    const c = await d.call('containers', 'create', { name: 'prompt', config: { image: 'busybox', cmd: ['sh', '-c', 'printf "name? "; read x; echo "hi $x"'], openStdin: true, stdinOnce: true, attachStdin: true } });
    const a = attachStream(d, { id: c.id, stdin: true, stdout: true, stderr: true });
    await a.attached;
    await d.call('containers', 'start', { id: c.id });
    await waitFor(() => a.out().includes('name? '));
    a.write({ stdin: Buffer.from('bob\n') });
    expect(await a.done).toEqual({ exit: 0, detached: false });
    expect(a.out()).toBe('name? hi bob\n');
    // Again (start -ai): only this run's output.
    const b = attachStream(d, { id: c.id, stdin: true, stdout: true, stderr: true });
    await b.attached;
    await d.call('containers', 'start', { id: c.id });
    await waitFor(() => b.out().includes('name? '));
    b.write({ stdin: Buffer.from('amy\n') });
    expect((await b.done).exit).toBe(0);
    expect(b.out()).toBe('name? hi amy\n');
    // A TTY's first bytes too.
    const t = await d.call('containers', 'create', { config: { image: 'busybox', cmd: ['sh', '-c', 'echo first; exit 2'], tty: true } });
    const ta = attachStream(d, { id: t.id, stdout: true, stderr: true });
    await ta.attached;
    await d.call('containers', 'start', { id: t.id });
    expect((await ta.done).exit).toBe(2);
    expect(ta.out()).toBe('first\r\n');
  });

  it('exec input sent at once is not lost (echo abc | exec -i cat)', async () => {
    const d = berthd();
    await d.start();
    await d.importBusybox();
    const id = await d.run('box', ['sleep', '1000']);
    for (let i = 0; i < 3; i++) {
      const ex = await d.call('containers', 'execCreate', { id, config: { cmd: ['cat'], attachStdin: true, attachStdout: true, attachStderr: true } });
      const e = attachStream(d, { execId: ex.execId }, 'execStart');
      e.write({ stdin: Buffer.from('abc\n') });
      e.write({ closeStdin: true });
      expect(await e.done).toEqual({ exit: 0, detached: false });
      expect(e.out()).toBe('abc\n');
    }
  });

  it('the exit is recorded before the attach tells it', async () => {
    const d = berthd();
    await d.start();
    await d.importBusybox();
    for (let i = 0; i < 3; i++) {
      const id = await d.run(`ex${i}`, ['sh', '-c', 'read x; exit 9'], {}, { openStdin: true });
      const a = attachStream(d, { id, stdin: true, stdout: true, stderr: true });
      await a.attached;
      a.write({ stdin: Buffer.from('go\n') });
      expect((await a.done).exit).toBe(9);
      expect((await d.inspect(id)).State).toMatchObject({ Status: 'exited', Running: false, ExitCode: 9 });
    }
  });

  it('AutoRemove is berthd\'s: the attached client gets all output and the exit, then the container goes; a detached one goes at its exit', async () => {
    const d = berthd();
    await d.start();
    await d.importBusybox();
    const c = await d.call('containers', 'create', { config: { image: 'busybox', cmd: ['sh', '-c', 'seq 1 2000; exit 3'] }, hostConfig: { autoRemove: true } });
    expect((await d.inspect(c.id)).HostConfig.AutoRemove).toBe(true);
    const a = attachStream(d, { id: c.id, stdout: true, stderr: true });
    await a.attached;
    await d.call('containers', 'start', { id: c.id });
    expect((await a.done).exit).toBe(3);
    expect(a.out().trim().split('\n')).toHaveLength(2000);
    await waitFor(async () => (await d.call('containers', 'list', { all: true })).containers.length === 0);
    // Detached from a running --rm container: it goes when it exits.
    const t = await d.call('containers', 'create', { config: { image: 'busybox', cmd: ['sh'], tty: true, openStdin: true, stdinOnce: true }, hostConfig: { autoRemove: true } });
    const b = attachStream(d, { id: t.id, stdin: true, stdout: true, stderr: true });
    await b.attached;
    await d.call('containers', 'start', { id: t.id });
    b.write({ stdin: Buffer.from([0x10, 0x11]) });
    expect((await b.done).detached).toBe(true);
    await sleep(300);
    expect((await d.inspect(t.id)).State.Running).toBe(true);
    await d.call('containers', 'kill', { id: t.id });
    await waitFor(async () => (await d.call('containers', 'list', { all: true })).containers.length === 0);
  });
});

describe('berthd healthchecks', () => {
  const berthd = useBerthd();

  it('a healthcheck that turns healthy, one that turns unhealthy after its retries: State.Health and ps', async () => {
    const d = berthd();
    await d.start();
    await d.importBusybox();
    const ms = (n: number): string => String(n * 1_000_000);
    const good = await d.run('good', ['sh', '-c', 'sleep 1; touch /tmp/ok; exec sleep 1000'], {}, {
      healthcheck: { test: ['CMD-SHELL', 'test -f /tmp/ok && echo fine'], intervalNs: ms(300), timeoutNs: ms(5000), retries: 10 } as never,
    });
    const bad = await d.run('bad', ['sleep', '1000'], {}, {
      healthcheck: { test: ['CMD', 'sh', '-c', 'echo nope; exit 1'], intervalNs: ms(200), timeoutNs: ms(5000), retries: 3 } as never,
    });
    expect((await d.inspect(good)).State).toMatchObject({ Health: { Status: 'starting', FailingStreak: 0 } });
    await waitFor(async () => ((await d.inspect(good)).State as { Health?: { Status: string } }).Health?.Status === 'healthy', 20_000);
    const g = (await d.inspect(good)).State as unknown as { Health: { FailingStreak: number; Log: { ExitCode: number; Output: string }[] } };
    expect(g.Health.FailingStreak).toBe(0);
    expect(g.Health.Log.at(-1)).toMatchObject({ ExitCode: 0, Output: 'fine\n' });
    await waitFor(async () => ((await d.inspect(bad)).State as { Health?: { Status: string } }).Health?.Status === 'unhealthy', 20_000);
    const b = (await d.inspect(bad)).State as unknown as { Health: { FailingStreak: number; Log: { ExitCode: number; Output: string }[] } };
    expect(b.Health.FailingStreak).toBeGreaterThanOrEqual(3);
    expect(b.Health.Log.at(-1)).toMatchObject({ ExitCode: 1, Output: 'nope\n' });
    expect(b.Health.Log.length).toBeLessThanOrEqual(5);
    const ps = (await d.call('containers', 'list', {})).containers as { names: string[]; status: string }[];
    expect(ps.find((c) => c.names[0] === '/good')!.status).toMatch(/^Up .* \(healthy\)$/);
    expect(ps.find((c) => c.names[0] === '/bad')!.status).toMatch(/^Up .* \(unhealthy\)$/);
    // A timeout counts as a failure with exit -1.
    const slow = await d.run('slow', ['sleep', '1000'], {}, {
      healthcheck: { test: ['CMD', 'sleep', '5'], intervalNs: ms(200), timeoutNs: ms(300), retries: 1 } as never,
    });
    await waitFor(async () => ((await d.inspect(slow)).State as { Health?: { Status: string } }).Health?.Status === 'unhealthy', 20_000);
    expect(((await d.inspect(slow)).State as unknown as { Health: { Log: { ExitCode: number; Output: string }[] } }).Health.Log[0]).toMatchObject({ ExitCode: -1, Output: expect.stringContaining('exceeded timeout') });
  });
});
