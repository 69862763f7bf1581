// berthd through berth.engine.v1 (the CLI comes later): import the busybox image, run containers,
// logs, Docker's exit codes, a restart policy restarting, and the restart contract — kill -9 of
// berthd and berth-containerd, then berthd alone: running containers still run, exits in the
// gap are reported with their real codes, `always` ones are started again; nothing is left.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
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

describe('berthd', () => {
  const berthd = useBerthd();

  it('imports busybox, runs a container, logs, exit codes, config merging, wait, rm', async () => {
    const d = berthd();
    await d.start();
    const imageId = await d.importBusybox('busybox:latest', ['ENV FOO=image', 'WORKDIR /tmp', 'CMD ["echo", "from-image"]']);
    expect(imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    const images = await d.call('images', 'list', {});
    expect(images.images[0].repoTags).toEqual(['busybox:latest']);

    // The image's Cmd, Env and WorkingDir; the run's Env wins by key.
    const c1 = await d.call('containers', 'create', { name: 'hello', config: { image: 'busybox', env: ['BAR=run'] } });
    const i1 = await d.inspect(c1.id);
    expect(i1.Name).toBe('/hello');
    expect(i1.Config.Cmd).toEqual(['echo', 'from-image']);
    expect(i1.Config.Env).toEqual(['BAR=run', 'FOO=image', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'].sort((a, b) => (a.startsWith('PATH') ? -1 : b.startsWith('PATH') ? 1 : 0)));
    expect(i1.Config.WorkingDir).toBe('/tmp');
    await d.call('containers', 'start', { id: 'hello' });
    const w1 = await d.call('containers', 'wait', { id: 'hello' });
    expect(Number(w1.statusCode)).toBe(0);
    expect((await d.logs('hello')).map((l) => l.text)).toEqual(['from-image\n']);

    // --entrypoint resets the image's Cmd; the process sees PATH, HOSTNAME, HOME, cwd, user.
    const id = await d.run('env', ['-c', 'echo err >&2; sleep 0.2; echo out; pwd; id; hostname; echo $FOO $HOME; exit 3'], {}, { entrypoint: { values: ['sh'] }, user: 'nobody' });
    const w2 = await d.call('containers', 'wait', { id });
    expect(Number(w2.statusCode)).toBe(3);
    const logs = await d.logs(id);
    expect(logs).toContainEqual({ stream: 'stderr', text: 'err\n' });
    const text = logs.filter((l) => l.stream === 'stdout').map((l) => l.text).join('');
    expect(text).toBe(`out\n/tmp\nuid=65534(nobody) gid=65534(nogroup)\n${id.slice(0, 12)}\nimage /nonexistent\n`);
    const i2 = await d.inspect(id);
    expect(i2.State).toMatchObject({ Status: 'exited', Running: false, ExitCode: 3 });
    expect(Date.parse(i2.State.FinishedAt)).toBeGreaterThanOrEqual(Date.parse(i2.State.StartedAt));
    expect((await d.logs(id, { tail: 1 })).map((l) => l.text)).toEqual(['image /nonexistent\n']);
    expect((await d.logs(id, { timestamps: true }))[0]!.text).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z err\n$/);

    // Docker's exit codes for a command that cannot run: 127 not found, 126 not executable.
    const nf = await d.call('containers', 'create', { name: 'nf', config: { image: 'busybox', cmd: ['/no/such/thing'] } });
    const e127 = await d.call('containers', 'start', { id: nf.id }).catch((e: { metadata: { get(k: string): unknown[] }; details: string }) => e);
    expect(e127.metadata.get('berth-exit-code')).toEqual(['127']);
    expect((await d.inspect(nf.id)).State).toMatchObject({ Status: 'exited', ExitCode: 127 });
    const nx = await d.call('containers', 'create', { name: 'nx', config: { image: 'busybox', cmd: ['/etc/passwd'] } });
    const e126 = await d.call('containers', 'start', { id: nx.id }).catch((e: { metadata: { get(k: string): unknown[] } }) => e);
    expect(e126.metadata.get('berth-exit-code')).toEqual(['126']);

    // Bad input: a clear error, nothing recorded.
    await expect(d.call('containers', 'create', { name: 'hello', config: { image: 'busybox' } })).rejects.toMatchObject({ details: expect.stringContaining('already in use') });
    await expect(d.call('containers', 'create', { config: { image: 'nosuch' } })).rejects.toMatchObject({ details: expect.stringContaining('no such image') });
    await expect(d.call('containers', 'create', { config: { image: 'busybox' }, hostConfig: { restartPolicy: { name: 'sometimes' } } })).rejects.toMatchObject({ details: expect.stringContaining('invalid restart policy') });
    await expect(d.call('containers', 'create', { config: { image: 'busybox' }, hostConfig: { resources: { memory: 1024 } } })).rejects.toMatchObject({ details: expect.stringContaining('Minimum memory') });
    expect((await d.call('containers', 'list', { all: true })).containers).toHaveLength(4);

    // A running container: ps, stop (SIGTERM ignored → SIGKILL after the timeout), rm.
    const sl = await d.run('sleeper', ['sleep', '1000']);
    const ps = await d.call('containers', 'list', {});
    expect(ps.containers.map((c: { names: string[] }) => c.names[0])).toEqual(['/sleeper']);
    expect(ps.containers[0].status).toMatch(/^Up /);
    await d.call('containers', 'stop', { id: sl, timeout: 1 });
    expect((await d.inspect(sl)).State.ExitCode).toBe(137);
    await d.call('containers', 'remove', { id: sl });
    await expect(d.inspect(sl)).rejects.toMatchObject({ details: expect.stringContaining('No such container') });
  });

  it('restart policy always restarts with a growing back-off; stop is final', async () => {
    const d = berthd();
    await d.start();
    await d.importBusybox();
    const id = await d.run('flappy', ['sh', '-c', 'echo run; exit 1'], { restartPolicy: { name: 'always' } });
    const restarted = await waitFor(async () => (await d.inspect(id)).RestartCount >= 3, 15_000, 50);
    expect(restarted, d.log()).toBe(true);
    expect((await d.logs(id)).filter((l) => l.text === 'run\n').length).toBeGreaterThanOrEqual(3);
    const of = await d.run('onfail', ['sh', '-c', 'exit 2'], { restartPolicy: { name: 'on-failure', maximumRetryCount: 2 } });
    await waitFor(async () => (await d.inspect(of)).State.Status === 'exited' && (await d.inspect(of)).RestartCount === 2, 15_000);
    expect((await d.inspect(of)).State).toMatchObject({ Status: 'exited', ExitCode: 2 });
    expect((await d.inspect(of)).RestartCount).toBe(2);
    await d.call('containers', 'stop', { id, timeout: 1 });
    const i = await d.inspect(id);
    expect(i.State.Status).toBe('exited');
    const count = i.RestartCount;
    await sleep(1500);
    expect((await d.inspect(id)).RestartCount).toBe(count);
  });

  it('kill -9 of berthd and berth-containerd: running containers run on, exits in the gap keep their codes, always is restarted, stop is remembered', async () => {
    const d = berthd();
    await d.start();
    await d.importBusybox();
    const data = join(d.roots.dir, 'data');
    mkdirSync(data);
    const bind = { binds: [`${data}:/data`] };
    const waitFile = (f: string, code: number) => ['sh', '-c', `while [ ! -e /data/${f} ]; do sleep 0.05; done; echo last-${code}; exit ${code}`];
    const counter = await d.run('counter', ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "line $i"; sleep 0.01; done']);
    const e3 = await d.run('exit3', waitFile('go3', 3), bind);
    const e7 = await d.run('exit7', waitFile('go7', 7), bind);
    const always = await d.run('always', waitFile('goa', 5), { ...bind, restartPolicy: { name: 'always' } });
    const stopped = await d.run('stopped', ['sleep', '1000'], { restartPolicy: { name: 'always' } });
    await d.call('containers', 'stop', { id: stopped, timeout: 0 });
    const pidBefore = (await d.inspect(counter)).State.Pid;

    await sleep(300);
    await d.kill9();
    await d.kill9Containerd();
    const gapStart = Date.now();
    writeFileSync(join(data, 'go3'), '');
    writeFileSync(join(data, 'go7'), '');
    writeFileSync(join(data, 'goa'), '');
    await sleep(1500);
    const gapEnd = Date.now();

    await d.start(); // starts a new berth-containerd too: none answers
    const ic = await d.inspect(counter);
    expect(ic.State, d.log()).toMatchObject({ Status: 'running', Running: true, Pid: pidBefore });
    for (const [id, code] of [[e3, 3], [e7, 7]] as const) {
      const i = await d.inspect(id);
      expect(i.State).toMatchObject({ Status: 'exited', ExitCode: code });
      const fin = Date.parse(i.State.FinishedAt);
      expect(fin).toBeGreaterThanOrEqual(gapStart - 50);
      expect(fin).toBeLessThanOrEqual(gapEnd);
      expect((await d.logs(id)).map((l) => l.text)).toEqual([`last-${code}\n`]);
    }
    // `always` exited in the gap with 5 and was started again (it exits at once each time, so it
    // is seen running only for an instant: its start time tells); the stopped one stays stopped.
    const restarted = await waitFor(async () => {
      const i = await d.inspect(always);
      return i.RestartCount >= 1 && Date.parse(i.State.StartedAt) > gapEnd ? i : undefined;
    }, 10_000);
    expect(restarted, d.log()).toBeTruthy();
    expect((await d.inspect(stopped)).State.Status).toBe('exited');
    await sleep(500);
    expect((await d.inspect(stopped)).State.Status).toBe('exited');

    // The counter's log has every line, with no gap, across the daemons' absence.
    await d.call('containers', 'stop', { id: counter, timeout: 1 });
    const lines = (await d.logs(counter)).map((l) => l.text);
    expect(lines.length).toBeGreaterThan(100);
    lines.forEach((l, i) => expect(l).toBe(`line ${i + 1}\n`));
  });

  it('exec, attach with detach keys, top, pause, rename, events, inspect shape', async () => {
    const d = berthd();
    await d.start();
    await d.importBusybox();
    const since = BigInt(Date.now()) * 1_000_000n;
    const id = await d.run('cat', ['cat'], {}, { openStdin: true });
    // exec: output and exit code
    const ex = await d.call('containers', 'execCreate', { id: 'cat', config: { cmd: ['sh', '-c', 'echo in-exec; exit 4'], attachStdout: true } });
    const got = await new Promise<{ out: string; code: number }>((resolve, reject) => {
      let out = '';
      const s = d.api().containers.execStart();
      s.on('data', (m: { stdout?: Uint8Array; exit?: { statusCode: unknown } }) => {
        if (m.stdout) out += Buffer.from(m.stdout).toString();
        if (m.exit) resolve({ out, code: Number(String(m.exit.statusCode)) });
      });
      s.on('error', reject);
      s.write({ start: { execId: ex.execId } });
    });
    expect(got).toEqual({ out: 'in-exec\n', code: 4 });
    // attach: stdin echoed by cat, ctrl-p ctrl-q detaches and leaves it running
    const echoed = await new Promise<boolean>((resolve, reject) => {
      let out = '';
      const s = d.api().containers.attach();
      s.on('data', (m: { stdout?: Uint8Array; detached?: boolean }) => {
        if (m.stdout) {
          out += Buffer.from(m.stdout).toString();
          if (out.includes('hello')) s.write({ stdin: Buffer.from([0x10, 0x11]) });
        }
        if (m.detached) resolve(true);
      });
      s.on('error', reject);
      s.write({ start: { id, stdin: true, stdout: true, stderr: true } });
      setTimeout(() => s.write({ stdin: Buffer.from('hello\n') }), 200);
    });
    expect(echoed).toBe(true);
    expect((await d.inspect(id)).State.Running).toBe(true);
    const top = await d.call('containers', 'top', { id });
    expect(top.titles).toContain('PID');
    expect(top.processes.map((p: { values: string[] }) => p.values.at(-1))).toContain('cat');
    await d.call('containers', 'pause', { id });
    expect((await d.inspect(id)).State).toMatchObject({ Status: 'paused', Paused: true });
    await d.call('containers', 'unpause', { id });
    await d.call('containers', 'rename', { id, newName: 'dog' });
    const i = await d.inspect('dog');
    expect(Object.keys(i)).toEqual(expect.arrayContaining(['Id', 'Name', 'Created', 'State', 'RestartCount', 'Config', 'HostConfig', 'Mounts', 'NetworkSettings']));
    expect(i.Name).toBe('/dog');
    await d.call('containers', 'kill', { id: 'dog' });
    expect(Number((await d.call('containers', 'wait', { id: 'dog' })).statusCode)).toBe(137);
    const actions = await new Promise<string[]>((resolve, reject) => {
      const out: string[] = [];
      const s = d.api().system.events({ sinceNs: since.toString() as unknown as number, untilNs: (BigInt(Date.now()) * 1_000_000n).toString() as unknown as number, filters: [{ key: 'type', values: ['container'] }] });
      s.on('data', (e: { action: string }) => out.push(e.action.split(':')[0]!));
      s.on('error', reject);
      s.on('end', () => resolve(out));
    });
    expect(actions).toEqual(['create', 'start', 'exec_create', 'exec_start', 'attach', 'pause', 'unpause', 'rename', 'kill', 'die']);
  });
});
