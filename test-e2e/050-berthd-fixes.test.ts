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
