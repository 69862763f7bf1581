// berth, the CLI, as Docker users use it (the seeds' workflows), through the built binary against
// a berthd on temp roots: import, images, run (--rm, -d, -it on a real pty, -i with a pipe), ps,
// logs -f, exec (-it too), attach and the detach keys, cp both ways, top, pause, restart, rename,
// rm -f $(berth ps -q); config merging compared with a private dockerd on the same image; and bad
// input: a clear error with Docker's exit code, nothing changed.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { testImageTar } from './support/index.js';
import { useBerthd, type BerthdUnderTest, type CliResult } from './support/berthd.js';
import { importTestImage, runInPty, startDockerd } from './support/dockerd.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const why = (r: CliResult, d?: BerthdUnderTest): string => `${r.cmd} → ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}${d ? `\n--- berthd ---\n${d.log()}` : ''}`;

async function until(check: () => Promise<boolean>, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await sleep(100);
  }
  return check();
}

describe('berth CLI', () => {
  const berthd = useBerthd();

  it('import, images, run --rm, run -d, ps, logs -f, exec, top, pause, restart, rename, cp, inspect, rm -f $(berth ps -q)', async () => {
    const d = await berthd();
    const id = (await d.ok(['import', testImageTar(), 'busybox:latest'])).trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const images = await d.ok(['images']);
    expect(images.split('\n')[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(images.split('\n')[1]).toMatch(new RegExp(`^busybox\\s+latest\\s+${id.slice(7, 19)}\\s+.+ ago\\s+\\d`));
    expect(await d.ok(['images', '-q'])).toBe(`${id.slice(7, 19)}\n`);
    expect(await d.ok(['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'])).toBe('busybox:latest\n');
    // The same image from stdin, with a change and a message: `cat x.tar | docker import - name`.
    await d.ok(['import', '-c', 'CMD ["echo", "from-change"]', '-m', 'seed', '-', 'seed/busybox:1.0'], { input: readFileSync(testImageTar()) });
    await d.ok(['tag', 'seed/busybox:1.0', 'seed/busybox:2.0']);
    expect(await d.ok(['run', '--rm', '--network', 'none', 'seed/busybox:2.0'])).toBe('from-change\n');
    expect(await d.ok(['rmi', 'seed/busybox:2.0'])).toBe('Untagged: seed/busybox:2.0\n');
    expect(await d.ok(['image', 'inspect', '-f', '{{json .Config.Cmd}}', 'seed/busybox:1.0'])).toBe('["echo","from-change"]\n');

    // run --rm: the output, the container's exit code, nothing left behind.
    const hello = await d.berth(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'echo hello; echo oops >&2; exit 3']);
    expect(hello.stdout, why(hello, d)).toBe('hello\n');
    expect(hello.stderr).toBe('oops\n');
    expect(hello.code).toBe(3);
    expect(await d.ok(['ps', '-a', '-q'])).toBe('');
    // -i with a pipe ends when the pipe does (StdinOnce).
    const cat = await d.berth(['run', '-i', '--rm', '--network', 'none', 'busybox', 'cat'], { input: 'x\ny\n', timeoutMs: 20_000 });
    expect(cat.stdout, why(cat, d)).toBe('x\ny\n');
    expect(cat.code).toBe(0);

    // run -d, ps (Docker's columns), ps -a -q, logs -f following to the end.
    const cid = (await d.ok(['run', '-d', '--name', 'web', '--network', 'none', 'busybox', 'sh', '-c', 'i=0; while true; do i=$((i+1)); echo "line $i"; sleep 0.1; done'])).trim();
    expect(cid).toMatch(/^[0-9a-f]{64}$/);
    const ps = (await d.ok(['ps'])).split('\n');
    expect(ps[0]).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    // Docker quotes an argument with spaces in single quotes; berthd (for now) in double quotes.
    expect(ps[1]).toMatch(new RegExp(`^${cid.slice(0, 12)}\\s+busybox\\s+"sh -c (?:'|\\\\")i=0; while t…"\\s+.* ago\\s+Up .*\\s+web$`));
    expect(await d.ok(['ps', '-a', '-q'])).toBe(`${cid.slice(0, 12)}\n`);
    expect(await d.ok(['container', 'ls', '--no-trunc', '--format', '{{.ID}} {{.Names}} {{.State}}'])).toBe(`${cid} web running\n`);
    const fin = (await d.ok(['run', '-d', '--name', 'finite', '--network', 'none', 'busybox', 'sh', '-c', 'for i in 1 2 3 4 5; do echo "n $i"; sleep 0.2; done; echo bye >&2'])).trim();
    const follow = await d.berth(['logs', '-f', 'finite'], { timeoutMs: 20_000 });
    expect(follow.stdout, why(follow, d)).toBe('n 1\nn 2\nn 3\nn 4\nn 5\n');
    expect(follow.stderr).toBe('bye\n');
    const tail = await d.berth(['logs', '--tail', '2', fin]); // the last two entries of both streams, as Docker's
    expect([tail.stdout, tail.stderr]).toEqual(['n 5\n', 'bye\n']);
    expect(await d.ok(['wait', 'finite'])).toBe('0\n');

    // exec: output, exit code, env, workdir, user; and with -it on a real terminal.
    const ex = await d.berth(['exec', '-e', 'X=1', '-w', '/etc', '-u', 'nobody', 'web', 'sh', '-c', 'echo "$X $(pwd) $(id -u)"; exit 4']);
    expect(ex.stdout, why(ex, d)).toBe('1 /etc 65534\n');
    expect(ex.code).toBe(4);
    const ept = runInPty([...d.argv, 'exec', '-it', 'web', 'sh'], { rows: 20, cols: 70, env: d.env });
    try {
      await ept.waitFor(/# /, 20_000);
      ept.write('echo "tty=$(stty size) $((6*7))"; exit 6\r');
      await ept.waitFor(/tty=20 70 42/, 10_000);
      expect(await Promise.race([ept.exited, sleep(15_000).then(() => 'timeout')])).toEqual({ code: 6, signal: null });
    } finally {
      ept.kill();
    }
    expect((await d.ok(['inspect', '-f', '{{.State.Status}}', 'web']))).toBe('running\n'); // leaving an exec leaves the container

    // top, pause / unpause, restart, rename, inspect -f.
    const top = await d.ok(['top', 'web']);
    expect(top.split('\n')[0]).toMatch(/^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD/);
    expect(top).toMatch(/sh -c i=0; while true/);
    await d.ok(['pause', 'web']);
    expect(await d.ok(['ps', '--format', '{{.Names}}: {{.Status}}'])).toMatch(/^web: Up .* \(Paused\)\n$/);
    expect((await d.berth(['exec', 'web', 'true'])).code).toBe(1);
    await d.ok(['unpause', 'web']);
    const started1 = await d.ok(['inspect', '-f', '{{.State.StartedAt}}', 'web']);
    expect(await d.ok(['restart', '-t', '1', 'web'])).toBe('web\n');
    expect(await d.ok(['inspect', '-f', '{{.State.Running}}', 'web'])).toBe('true\n');
    expect(await d.ok(['inspect', '-f', '{{.State.StartedAt}}', 'web'])).not.toBe(started1);
    await d.ok(['rename', 'web', 'web2']);
    expect(await d.ok(['inspect', '--format', '{{.Name}} {{.Config.Image}} {{index .Config.Cmd 0}}', cid.slice(0, 8)])).toBe('/web2 busybox sh\n');
    const doc = JSON.parse(await d.ok(['container', 'inspect', 'web2'])) as { Id: string; State: { Status: string } }[];
    expect(doc[0]).toMatchObject({ Id: cid, State: { Status: 'running' } });

    // cp both ways, a directory, and a tar on stdout.
    const host = join(d.roots.dir, 'cp');
    mkdirSync(join(host, 'dir', 'sub'), { recursive: true });
    writeFileSync(join(host, 'hello.txt'), 'hello from the host\n');
    writeFileSync(join(host, 'dir', 'sub', 'deep.txt'), 'deep\n');
    await d.ok(['cp', join(host, 'hello.txt'), 'web2:/tmp/']);
    await d.ok(['cp', join(host, 'hello.txt'), 'web2:/tmp/renamed.txt']);
    await d.ok(['cp', join(host, 'dir'), 'web2:/opt']);
    expect(await d.ok(['exec', 'web2', 'sh', '-c', 'cat /tmp/hello.txt /tmp/renamed.txt /opt/sub/deep.txt; stat -c %u /tmp/hello.txt'])).toBe('hello from the host\nhello from the host\ndeep\n0\n');
    await d.ok(['cp', 'web2:/etc/hostname', join(host, 'hostname')]);
    expect(readFileSync(join(host, 'hostname'), 'utf8')).toBe(`${cid.slice(0, 12)}\n`);
    await d.ok(['cp', 'web2:/opt', join(host, 'back')]);
    expect(readFileSync(join(host, 'back', 'sub', 'deep.txt'), 'utf8')).toBe('deep\n');
    const tar = await d.berth(['cp', 'web2:/tmp/hello.txt', '-']);
    expect(tar.code).toBe(0);
    expect(tar.stdout.slice(0, 9)).toBe('hello.txt'); // a tar's first header starts with the name

    // rm -f $(berth ps -q): every running container goes.
    await d.ok(['run', '-d', '--network', 'none', 'busybox', 'sleep', '1000']);
    expect((await d.ok(['ps', '-q'])).trim().split('\n')).toHaveLength(2);
    const rmAll = await d.berth(['-H', d.host, 'ps', '-q']);
    const sh = await import('node:child_process').then((cp) => cp.spawnSync('sh', ['-c', `${d.argv.map((a) => `'${a}'`).join(' ')} rm -f $(${d.argv.map((a) => `'${a}'`).join(' ')} ps -q)`], { env: d.env, encoding: 'utf8' }));
    expect(sh.status, sh.stderr).toBe(0);
    expect(sh.stdout.trim().split('\n').sort()).toEqual(rmAll.stdout.trim().split('\n').sort());
    expect(await d.ok(['ps', '-q'])).toBe('');
    expect(await d.ok(['ps', '-a', '--format', '{{.Names}} {{.Status}}'])).toMatch(/^finite Exited \(0\) .* ago\n$/);
  });

  it('run -it is a real terminal: the size from the first byte, typed input, ctrl-p ctrl-q detaches, attach comes back, exit ends it with its code', async () => {
    const d = await berthd();
    await d.ok(['import', testImageTar(), 'busybox:latest']);
    const pty = runInPty([...d.argv, 'run', '-it', '--name', 'shell', '--network', 'none', 'busybox', 'sh'], { rows: 33, cols: 101, env: d.env });
    try {
      await pty.waitFor(/# /, 20_000);
      pty.write('echo "size=$(stty size)"\r');
      expect((await pty.waitFor(/size=(\d+ \d+)\r\n/, 10_000))[1]).toBe('33 101');
      // The size at create: the container's first process saw it too (no resize needed).
      pty.write('echo "winch=$(( 100 + 23 ))"\r');
      await pty.waitFor(/winch=123/, 10_000);
      pty.write('\x10\x11'); // ctrl-p ctrl-q
      expect(await Promise.race([pty.exited, sleep(10_000).then(() => 'timeout')])).toEqual({ code: 0, signal: null });
    } finally {
      pty.kill();
    }
    await sleep(500);
    expect(await d.ok(['inspect', '-f', '{{.State.Status}}', 'shell']), 'detaching left the container running').toBe('running\n');
    const att = runInPty([...d.argv, 'attach', 'shell'], { rows: 25, cols: 80, env: d.env });
    try {
      await att.waitFor(/# /, 20_000);
      const from = att.output().length;
      att.write('echo "again=$(stty size)"; exit 9\r');
      await att.waitFor(/again=25 80/, 10_000, from);
      expect(await Promise.race([att.exited, sleep(15_000).then(() => 'timeout')])).toEqual({ code: 9, signal: null });
    } finally {
      att.kill();
    }
    expect(await d.ok(['wait', 'shell'])).toBe('9\n');
    expect(await d.ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'shell'])).toBe('exited 9\n');

    // A foreground run forwards signals to the container (no TTY): SIGTERM reaches its trap.
    const { spawn } = await import('node:child_process');
    const fg = spawn(d.argv[0]!, [d.argv[1]!, 'run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.1; done'], { env: d.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    fg.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    const code = new Promise<number | null>((r) => fg.on('close', (c) => r(c)));
    expect(await until(async () => out.includes('ready'), 15_000), out).toBe(true);
    fg.kill('SIGTERM');
    expect(await Promise.race([code, sleep(15_000).then(() => 'timeout')])).toBe(7);
    expect(out).toBe('ready\ngot-term\n');
  });

  it('bad input: a clear error with Docker\'s exit code, and nothing changed', async () => {
    const d = await berthd();
    await d.ok(['import', testImageTar(), 'busybox:latest']);
    await d.ok(['run', '-d', '--name', 'taken', '--network', 'none', 'busybox', 'sleep', '1000']);
    const before = await d.ok(['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Names}} {{.State}}']);
    const cases: [string[], number, RegExp][] = [
      [['run', '--bogus', 'busybox'], 125, /^unknown flag: --bogus\nSee 'berth run --help'\.\n$/],
      [['ps', '-Z'], 125, /unknown shorthand flag: 'Z' in -Z/],
      [['run', 'nosuch'], 125, /no such image: nosuch/],
      [['run', '--name', 'taken', 'busybox'], 125, /The container name "\/taken" is already in use/],
      [['create', '--name', 'taken', 'busybox'], 125, /already in use/],
      [['run', '--restart', 'sometimes', 'busybox'], 125, /invalid restart policy/],
      [['run', '--restart', 'on-failure:x', 'busybox'], 125, /maximum retry count must be an integer/],
      [['run', '-m', 'lots', 'busybox'], 125, /invalid argument "lots" for "-m, --memory" flag: invalid size: 'lots'/],
      [['run', '--memory', '1k', 'busybox'], 125, /Minimum memory limit allowed is 6MB/],
      [['run', '--network', 'none', 'busybox', '/no/such/cmd'], 127, /no such file or directory/i],
      [['stop', 'nosuch'], 1, /^Error response from daemon: No such container: nosuch\n$/],
      [['nosuchverb'], 1, /'nosuchverb' is not a berth command/],
    ];
    for (const [args, code, re] of cases) {
      const r = await d.berth(args);
      expect(r.code, why(r)).toBe(code);
      expect(r.stderr, why(r)).toMatch(re);
    }
    // The failed start left its container (as Docker); remove it, then nothing else changed.
    const after = await d.ok(['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Names}} {{.State}}']);
    expect(after.split('\n').filter((l) => l && !l.endsWith(' exited'))).toEqual(before.split('\n').filter(Boolean));
    // cp: a path that climbs out of the container lands inside it, never on the host; a missing
    // directory is an error.
    const tag = randomBytes(4).toString('hex');
    const src = join(d.roots.dir, 'f.txt');
    writeFileSync(src, 'contained\n');
    const escape = `/tmp/berth-escape-${tag}`;
    const r1 = await d.berth(['cp', src, `taken:/../../../../../..${escape}`]);
    expect(r1.code, why(r1)).toBe(0);
    expect(existsSync(escape)).toBe(false);
    expect(await d.ok(['exec', 'taken', 'cat', escape])).toBe('contained\n');
    await d.ok(['exec', 'taken', 'ln', '-s', `/../../../../tmp/berth-link-${tag}`, '/link']);
    await d.ok(['exec', 'taken', 'mkdir', `/tmp/berth-link-${tag}`]);
    const r2 = await d.berth(['cp', src, 'taken:/link/']);
    expect(r2.code, why(r2)).toBe(0);
    expect(existsSync(`/tmp/berth-link-${tag}`)).toBe(false);
    const r3 = await d.berth(['cp', src, 'taken:/no/such/dir/f.txt']);
    expect(r3.code, why(r3)).toBe(1);
    expect(r3.stderr).toMatch(/Could not find the file \/no\/such\/dir in container taken/);
    const r4 = await d.berth(['cp', 'taken:/no/such/file', join(d.roots.dir, 'out')]);
    expect(r4.code, why(r4)).toBe(1);
    expect(existsSync(join(d.roots.dir, 'out'))).toBe(false);
    // A daemon that is not there.
    const r5 = await d.berth(['-H', `unix://${d.roots.dir}/nothing.sock`, 'ps']);
    expect(r5.code).toBe(1);
    expect(r5.stderr).toMatch(/Cannot connect to the Berth daemon at unix:\/\/.*nothing\.sock/);
  });

  it('config merging: image Entrypoint/Cmd/Env/WorkingDir/User against each run flag, as a private dockerd gives them', async () => {
    const d = await berthd();
    const dk = await startDockerd();
    try {
      const changesA = ['ENV FOO=image BAR=image', 'WORKDIR /tmp', 'CMD ["sh", "-c", "echo cmd $FOO $BAR $(pwd) $(id -u)"]'];
      const changesB = ['ENTRYPOINT ["echo", "ep"]', 'CMD ["default"]', 'USER nobody'];
      const imp = async (ref: string, changes: string[]): Promise<void> => {
        const c = changes.flatMap((x) => ['-c', x]);
        await d.ok(['import', ...c, testImageTar(), ref]);
        await dk.dockerOk(['import', ...c, testImageTar(), ref]);
      };
      await imp('merge/a:1', changesA);
      await imp('merge/b:1', changesB);
      await importTestImage(dk, testImageTar(), 'busybox:latest');
      await d.ok(['import', testImageTar(), 'busybox:latest']);
      const cases: string[][] = [
        ['merge/a:1'],
        ['-e', 'FOO=run', 'merge/a:1'],
        ['-w', '/etc', 'merge/a:1'],
        ['-u', 'nobody', 'merge/a:1'],
        ['merge/a:1', 'sh', '-c', 'echo "args $FOO $(pwd)"'],
        ['--entrypoint', 'pwd', 'merge/a:1'],
        ['merge/b:1'],
        ['merge/b:1', 'x', 'y'],
        ['--entrypoint', 'echo', 'merge/b:1'],
        ['--entrypoint', 'echo', 'merge/b:1', 'hi'],
        ['--entrypoint', '', 'merge/b:1', 'sh', '-c', 'echo "$(id -u) $HOME"'],
        ['-u', '0:0', 'merge/b:1', 'root'],
        ['-u', '0', '--env', 'HOME=/x', '--entrypoint', 'sh', 'merge/b:1', '-c', 'echo $HOME $(id -u)'],
        ['-t', 'busybox', 'sh', '-c', 'echo $TERM'],
        ['busybox', 'sh', '-c', 'env | grep -v ^HOSTNAME= | sort'],
        ['-h', 'named', 'busybox', 'hostname'],
      ];
      // The recorded config, as inspect shows it. (berthd also records Docker's default PATH in
      // Config.Env when the image has none, where dockerd only puts it in the process's
      // environment, and shows a cleared Entrypoint as [] where dockerd shows null.)
      const config = (doc: string): unknown => {
        const c = (JSON.parse(doc) as { Config: Record<string, unknown> }[])[0]!.Config;
        return {
          Entrypoint: Array.isArray(c.Entrypoint) && c.Entrypoint.length === 0 ? null : c.Entrypoint, Cmd: c.Cmd, WorkingDir: c.WorkingDir, User: c.User, Tty: c.Tty,
          Env: ((c.Env ?? []) as string[]).filter((e) => !e.startsWith('PATH=')),
        };
      };
      for (const c of cases) {
        const name = `m${randomBytes(4).toString('hex')}`;
        const args = ['run', '--name', name, '--network', 'none', ...c];
        const [b, k] = await Promise.all([d.berth(args), dk.docker(args)]);
        expect({ out: b.stdout, code: b.code }, `${c.join(' ')}\nberth: ${why(b)}\ndocker: ${k.stdout} ${k.stderr}`).toEqual({ out: k.stdout, code: k.code });
        const [bi, ki] = await Promise.all([d.ok(['inspect', name]), dk.dockerOk(['inspect', name])]);
        expect(config(bi), c.join(' ')).toEqual(config(ki));
      }
    } finally {
      await dk.stop();
    }
  });

  it('berthd fixes through the CLI: no network warning, exec -i input at once, exit recorded before attach ends, --rm as AutoRemove, health in ps', async () => {
    const d = await berthd();
    await d.ok(['import', testImageTar(), 'busybox:latest']);
    // No --network: no warning; the note is in info.
    const plain = await d.berth(['run', '--rm', 'busybox', 'echo', 'hi']);
    expect({ out: plain.stdout, err: plain.stderr, code: plain.code }, why(plain, d)).toEqual({ out: 'hi\n', err: '', code: 0 });
    expect((await d.berth(['info'])).stderr).toMatch(/WARNING: No bridge network yet/);
    // --rm recorded as AutoRemove; the container goes at its exit.
    await d.ok(['run', '-d', '--rm', '--name', 'gone', '-i', 'busybox', 'sh', '-c', 'read x; exit 9']);
    expect(await d.ok(['inspect', '-f', '{{.HostConfig.AutoRemove}} {{.Config.StdinOnce}}', 'gone'])).toBe('true false\n');
    // echo abc | berth exec -i c cat
    await d.ok(['run', '-d', '--name', 'box', '-i', '--health-cmd', 'true', '--health-interval', '300ms', 'busybox', 'sh', '-c', 'read x; exit 9']);
    for (let i = 0; i < 3; i++) {
      const ex = await d.berth(['exec', '-i', 'box', 'cat'], { input: 'abc\n', timeoutMs: 20_000 });
      expect({ out: ex.stdout, code: ex.code }, why(ex, d)).toEqual({ out: 'abc\n', code: 0 });
    }
    expect(await until(async () => (await d.ok(['ps', '--format', '{{.Status}}', '-f', 'name=box'])).includes('(healthy)'))).toBe(true);
    expect(await d.ok(['inspect', '-f', '{{.State.Health.Status}} {{.State.Health.FailingStreak}}', 'box'])).toBe('healthy 0\n');
    // attach gets exit 9; an inspect right after says so.
    const att = await d.berth(['attach', 'box'], { input: 'go\n', timeoutMs: 20_000 });
    expect(att.code, why(att, d)).toBe(9);
    expect(await d.ok(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'box'])).toBe('exited 9\n');
    // -i without a TTY: StdinOnce as Docker; the attach's end closes stdin.
    const gone = await d.berth(['attach', 'gone'], { input: 'x\n', timeoutMs: 20_000 });
    expect(gone.code, why(gone, d)).toBe(9);
    expect(await until(async () => (await d.ok(['ps', '-a', '-q', '-f', 'name=gone'])) === '')).toBe(true);
  });
});
