// The restart promise (issue 5, "What must show" 2; DESIGN.md "The restart contract"), through the
// built CLI: 20 containers of every kind run while berthd and berth-containerd are killed with -9;
// 10 s later berthd starts again (and starts berth-containerd). Running containers run on with the
// same pid, their logs have every numbered line with no gap in numbers or time (the shim writes
// them while the daemons are down), the exits in the gap show their codes, `--restart always`
// ones are started again, and the interactive shell answers after `attach` on a real pty. Then an
// upgrade: the built bundles copied to another directory, berthd restarted from there while the
// containers run, and the containers still run and are managed (stop, logs).
import { cpSync, existsSync, mkdirSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testImageTar } from './support/index.js';
import { useBerthd, type BerthdUnderTest, type CliResult } from './support/berthd.js';
import { runInPty } from './support/dockerd.js';
import { repoRoot } from './support/test-image.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const why = (r: CliResult, d?: BerthdUnderTest): string => `${r.cmd} → ${r.code ?? r.signal}\nstdout: ${r.stdout.slice(-2000)}\nstderr: ${r.stderr.slice(-2000)}${d ? `\n--- berthd ---\n${d.log()}` : ''}`;
const GAP_MS = 10_000;

async function until(check: () => Promise<boolean>, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await sleep(200);
  }
  return check();
}

function alive(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z');
  } catch {
    return false;
  }
}

/** Waits until `pid` is gone (kill -9 of a process that is not our child: no exit event). */
async function gone(pid: number): Promise<boolean> {
  return until(async () => !alive(pid), 10_000);
}

interface LogLine { t: number; n: number; text: string }

/** `logs -t` of a container whose lines start with `<tag> <n>`: the numbers and times. */
function parseNumbered(out: string, tag: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const l of out.split('\n')) {
    const m = /^(\S+) (\S+) (\d+)/.exec(l);
    if (!m || m[2] !== tag) continue;
    lines.push({ t: Date.parse(m[1]!), n: Number(m[3]), text: l });
  }
  return lines;
}

/** What is wrong with a numbered log: numbers not 1..N in order, or a pause longer than maxGapMs. */
function numberedProblems(lines: LogLine[], maxGapMs: number): string[] {
  const bad: string[] = [];
  if (!lines.length) return ['no lines'];
  if (lines[0]!.n !== 1) bad.push(`first line is ${lines[0]!.n}`);
  for (let i = 1; i < lines.length; i++) {
    const a = lines[i - 1]!;
    const b = lines[i]!;
    if (b.n !== a.n + 1) bad.push(`line ${a.n} is followed by ${b.n}`);
    if (!(b.t - a.t <= maxGapMs)) bad.push(`${b.t - a.t} ms between ${a.n} and ${b.n}: ${a.text.slice(0, 60)} / ${b.text.slice(0, 60)}`);
  }
  return bad.slice(0, 10);
}

/** A copy of the built install in `dir`: the dist bundles, runc's native build, node_modules. */
function copyBuild(dir: string): string {
  for (const p of ['client', 'containerd', 'daemon', 'runc', 'shim']) {
    cpSync(join(repoRoot, 'packages', p, 'dist'), join(dir, 'packages', p, 'dist'), { recursive: true });
    if (existsSync(join(repoRoot, 'packages', p, 'package.json'))) cpSync(join(repoRoot, 'packages', p, 'package.json'), join(dir, 'packages', p, 'package.json'));
  }
  cpSync(join(repoRoot, 'packages', 'runc', 'native', 'build'), join(dir, 'packages', 'runc', 'native', 'build'), { recursive: true });
  cpSync(join(repoRoot, 'packages', 'runc', 'native', 'PROTOCOL.md'), join(dir, 'packages', 'runc', 'native', 'PROTOCOL.md'));
  // better-sqlite3 stays external to the bundles: the install's node_modules.
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  return join(dir, 'packages', 'daemon', 'dist', 'berthd.cjs');
}

describe('the restart promise through the CLI', () => {
  const berthd = useBerthd();

  it('kill -9 of berthd and berth-containerd, 10 s down, start again: containers run on, no line lost, exits kept, always restarted, attach answers; then an upgrade from another build directory', { timeout: 240_000 }, async () => {
    let d = await berthd();
    await d.ok(['import', testImageTar(), 'busybox:latest']);
    const net = ['--network', 'none'];
    const printer = (tag: string) => ['sh', '-c', `i=0; while :; do i=$((i+1)); echo "${tag} $i"; sleep 0.01; done`];
    // ~200 bytes every 10 ms: 20 KB/s, numbered.
    const fast = ['sh', '-c', 'i=0; pad=$(printf "%0180d" 0); while :; do i=$((i+1)); echo "fast $i $pad"; sleep 0.01; done'];
    // Exits timed to fall in the gap: each waits for a wall-clock deadline (epoch seconds) set
    // when it is made, after the kill and well before the daemons come back.
    const waitUntil = (deadline: number) => `while [ $(date +%s) -lt ${deadline} ]; do sleep 0.1; done`;
    // An `always` container that exits once, in the gap, then stays up when started again.
    const onceThenUp = (code: number, deadline: number) => ['sh', '-c', `if [ -e /tmp/ran ]; then echo again; exec sleep 1000; fi; touch /tmp/ran; echo first; ${waitUntil(deadline)}; exit ${code}`];
    const specs: { name: string; args: string[]; kind: string }[] = [];
    for (let i = 1; i <= 6; i++) specs.push({ name: `p${i}`, args: [...net, 'busybox', ...printer(`p${i}`)], kind: 'printer' });
    specs.push({ name: 'fast', args: [...net, 'busybox', ...fast], kind: 'fast' });
    for (let i = 1; i <= 5; i++) specs.push({ name: `s${i}`, args: [...net, 'busybox', 'sleep', '1000'], kind: 'sleeper' });
    for (let i = 1; i <= 2; i++) specs.push({ name: `u${i}`, args: ['--restart', 'unless-stopped', ...net, 'busybox', 'sleep', '1000'], kind: 'sleeper' });
    specs.push({ name: 'inter', args: ['-it', ...net, 'busybox', 'sh'], kind: 'interactive' });
    const made = Date.now();
    await Promise.all(specs.map((s) => d.ok(['run', '-d', '--name', s.name, ...s.args])));
    const running = specs.map((s) => s.name);
    const pids = new Map<string, number>();
    for (const n of running) pids.set(n, Number(await d.ok(['inspect', '-f', '{{.State.Pid}}', n])));
    for (const [n, p] of pids) expect(p > 0 && alive(p), `${n} pid ${p}`).toBe(true);
    const gapStart = Date.now();
    // 7-8 s from now: after the kill (the five are made in ~2-4 s), before the 10 s gap ends.
    const deadline = Math.ceil(gapStart / 1000) + 7;
    const gapSpecs: { name: string; args: string[] }[] = [
      { name: 'always1', args: ['--restart', 'always', ...net, 'busybox', ...onceThenUp(1, deadline)] },
      { name: 'always2', args: ['--restart', 'always', ...net, 'busybox', ...onceThenUp(0, deadline)] },
      { name: 'onfail', args: ['--restart', 'on-failure:3', ...net, 'busybox', ...onceThenUp(2, deadline)] },
      { name: 'exit3', args: [...net, 'busybox', 'sh', '-c', `echo "exit3 1"; ${waitUntil(deadline)}; echo "exit3 2 last line"; exit 3`] },
      { name: 'exit7', args: [...net, 'busybox', 'sh', '-c', `echo "exit7 1"; ${waitUntil(deadline)}; echo "exit7 2 last line"; exit 7`] },
    ];
    await Promise.all(gapSpecs.map((s) => d.ok(['run', '-d', '--name', s.name, ...s.args])));
    const setupMs = Date.now() - made;
    const gapMadeMs = Date.now() - gapStart;
    const names = [...specs.map((s) => s.name), ...gapSpecs.map((s) => s.name)];
    expect(names).toHaveLength(20);
    expect(await d.ok(['ps', '-q'])).toMatch(/^([0-9a-f]{12}\n){20}$/);

    // kill -9 both daemons; 10 s with no daemon at all.
    const cpid = d.containerdPid();
    expect(cpid > 0 && alive(cpid), 'berth-containerd runs').toBe(true);
    process.kill(cpid, 'SIGKILL');
    await d.kill('SIGKILL');
    expect(await gone(cpid)).toBe(true);
    const killedAt = Date.now();
    expect(killedAt, `the daemons are killed before the gap containers exit (made in ${gapMadeMs} ms)`).toBeLessThan(deadline * 1000 - 500);
    await sleep(GAP_MS);
    for (const [n, p] of pids) expect(alive(p), `${n} (pid ${p}) runs while the daemons are down`).toBe(true);
    const roots = d.roots;
    d = await berthd({ roots });
    const upAt = Date.now();
    expect(d.containerdPid()).not.toBe(cpid);
    expect(alive(d.containerdPid()), 'berthd started berth-containerd').toBe(true);

    // Every running container runs on with the same pid.
    for (const n of running) {
      expect(await d.ok(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', n]), n).toBe(`running ${pids.get(n)}\n`);
    }
    // ps -a: the exits in the gap with their own codes; `no` policies are not restarted.
    const ps = await d.ok(['ps', '-a', '--format', '{{.Names}}|{{.Status}}']);
    const status = new Map(ps.trim().split('\n').map((l) => l.split('|') as [string, string]));
    expect(status.size, ps).toBe(20);
    expect(status.get('exit3'), ps).toMatch(/^Exited \(3\) /);
    expect(status.get('exit7'), ps).toMatch(/^Exited \(7\) /);
    for (const n of ['exit3', 'exit7']) {
      const fin = Date.parse((await d.ok(['inspect', '-f', '{{.State.FinishedAt}}', n])).trim());
      // The real exit time, in the gap (not the time berthd found out).
      expect(fin > killedAt - 1000 && fin < upAt, `${n} finished at ${new Date(fin).toISOString()}; the gap was ${new Date(killedAt).toISOString()}..${new Date(upAt).toISOString()}`).toBe(true);
    }
    // The restart policies were applied to what exited meanwhile.
    for (const n of ['always1', 'always2', 'onfail']) {
      const ok = await until(async () => (await d.berth(['inspect', '-f', '{{.State.Status}} {{.RestartCount}}', n])).stdout === 'running 1\n', 15_000);
      const st = await d.berth(['inspect', '-f', '{{.State.Status}} {{.RestartCount}} {{.State.StartedAt}}', n]);
      expect(ok, why(st, d)).toBe(true);
      expect(Date.parse(st.stdout.split(' ')[2]!.trim()), 'started again after the gap').toBeGreaterThan(killedAt);
      expect(await d.ok(['logs', n]), n).toBe('first\nagain\n');
    }
    for (const n of names) expect(status.get(n), `${n}: ${ps}`).toMatch(/^(Up|Exited \((3|7)\)) /);

    // Logs: every line, no gap in numbers, no pause in time — the shim wrote them while no
    // daemon was up. Printers every 10 ms: no pause over 1 s (a loaded 2-core machine).
    for (const n of ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'fast']) {
      const r = await d.berth(['logs', '-t', n], { timeoutMs: 60_000 });
      expect(r.code, why(r, d)).toBe(0);
      const lines = parseNumbered(r.stdout, n);
      expect(numberedProblems(lines, 1000), `${n}: ${lines.length} lines`).toEqual([]);
      // The lines cover the gap: from before the kill to after the restart.
      expect(lines[0]!.t).toBeLessThan(killedAt);
      expect(lines.at(-1)!.t).toBeGreaterThan(upAt - 1000);
      if (n === 'fast') {
        const bytes = r.stdout.length;
        const secs = (lines.at(-1)!.t - lines[0]!.t) / 1000;
        expect(bytes / secs, 'the fast writer kept writing ~20 KB/s (it never blocked on a daemon)').toBeGreaterThan(10_000);
      }
    }
    for (const n of ['exit3', 'exit7']) {
      const r = await d.berth(['logs', n]);
      expect(r.stdout, why(r, d)).toBe(`${n} 1\n${n} 2 last line\n`);
    }

    // The interactive shell answers after attach (a real pty), and stays up after detaching.
    const att = runInPty([...d.argv, 'attach', 'inter'], { rows: 24, cols: 80, env: d.env });
    try {
      await sleep(500);
      att.write('echo "alive $((6*7))"\r');
      await att.waitFor(/alive 42/, 15_000);
      att.write('\x10\x11');
      expect(await Promise.race([att.exited, sleep(10_000).then(() => 'timeout')])).toEqual({ code: 0, signal: null });
    } finally {
      att.kill();
    }
    expect(await d.ok(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', 'inter'])).toBe(`running ${pids.get('inter')}\n`);

    // The upgrade: berthd and berth-containerd from a copy of the build in another directory,
    // while the containers run (SIGTERM to berthd, kill -9 to berth-containerd).
    const install = join(roots.dir, 'upgrade');
    mkdirSync(install);
    const newBerthd = copyBuild(install);
    const cpid2 = d.containerdPid();
    process.kill(cpid2, 'SIGKILL');
    await d.kill('SIGTERM');
    expect(await gone(cpid2)).toBe(true);
    for (const [n, p] of pids) expect(alive(p), `${n} (pid ${p}) runs across the upgrade`).toBe(true);
    d = await berthd({ roots, berthdBin: newBerthd });
    const cpid3 = d.containerdPid();
    expect(readFileSync(`/proc/${d.pid}/cmdline`, 'utf8')).toContain(install);
    expect(readFileSync(`/proc/${cpid3}/cmdline`, 'utf8'), 'the new berth-containerd comes from the new install').toContain(install);
    expect(readlinkSync(`/proc/${cpid3}/exe`)).toBe(process.execPath);
    for (const n of running) {
      expect(await d.ok(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', n]), n).toBe(`running ${pids.get(n)}\n`);
    }
    // Managed: logs of one (still every line), stop of another, a new container beside them.
    const r = await d.berth(['logs', '-t', 'p2'], { timeoutMs: 60_000 });
    const p2 = parseNumbered(r.stdout, 'p2');
    expect(numberedProblems(p2, 1000), why(r)).toEqual([]);
    expect(p2.at(-1)!.t).toBeGreaterThan(Date.now() - 5000);
    expect(await d.ok(['stop', '-t', '1', 's1'])).toBe('s1\n');
    expect(alive(pids.get('s1')!)).toBe(false);
    expect(await d.ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 's1'])).toBe('exited 137\n');
    expect(await d.ok(['run', '--rm', ...net, 'busybox', 'echo', 'after the upgrade'])).toBe('after the upgrade\n');
    const fast2 = parseNumbered((await d.ok(['logs', '-t', 'fast'])).toString(), 'fast');
    expect(numberedProblems(fast2, 1000)).toEqual([]);
    console.log(`070: ${names.length} containers made in ${setupMs} ms; gap ${upAt - killedAt} ms; fast writer ${fast2.length} lines`);
  });
});
