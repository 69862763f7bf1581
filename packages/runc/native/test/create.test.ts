/**
 * berth-runc-init in create mode, driven with hand-written plans over a busybox rootfs:
 * namespaces, the root filesystem, process attributes, the exec fifo, hooks, cgroups.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PlanRecord } from '../../src/plan/records';
import { MS, Run, build, containerPlan, killAll, makeRootfs, nsLink, removeDir, runToExit } from './harness';

let dir: string;
let rootfs: string;
const cgroups: string[] = [];

beforeAll(() => {
  build();
  ({ dir, rootfs } = makeRootfs());
});
afterEach(async () => {
  killAll();
  for (const cg of cgroups.splice(0)) {
    for (let i = 0; i < 50 && existsSync(cg); i++) {
      try {
        rmdirSync(cg);
      } catch {
        await new Promise((r) => setTimeout(r, 20)); // the killed process may not be gone yet
      }
    }
  }
});
afterAll(() => removeDir(dir));

const sh = (script: string, extra: PlanRecord[] = []) => containerPlan(rootfs, ['sh', '-c', script], extra);

async function waitUntil(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('create: process lifecycle', () => {
  it('waits on the exec fifo after ready, then runs and reports the exit code', async () => {
    const fifo = join(dir, 'fifo-fg');
    execFileSync('mkfifo', [fifo]);
    const run = new Run(sh('echo started; exit 5', [['execfifo', fifo]]), { dir });
    await run.waitFor('ready');
    await new Promise((r) => setTimeout(r, 150));
    expect(run.stdout()).toBe(''); // blocked on the fifo
    expect(run.records.map((r) => r[0])).toEqual(['pid', 'ready']);
    writeFileSync(fifo, 'x'); // what `start` does
    expect(await run.exitStatus()).toBe(5);
    expect(run.stdout()).toBe('started\n');
  });

  it('not foreground: the helper exits 0 after ready and the process is the caller\'s child', async () => {
    const fifo = join(dir, 'fifo-bg');
    execFileSync('mkfifo', [fifo]);
    const plan = sh('echo bg-ran', [['execfifo', fifo]]).map((r): PlanRecord => (r[0] === 'foreground' ? ['foreground', 0] : r));
    const run = new Run(plan, { dir });
    await run.waitFor('ready');
    expect((await run.exited).code).toBe(0);
    const status = readFileSync(`/proc/${run.pid}/status`, 'utf8');
    expect(status).toMatch(new RegExp(`^PPid:\\s+${process.pid}$`, 'm'));
    writeFileSync(fifo, 'x');
    // It exits and stays a zombie of this process (Node cannot reap it; the shim's addon does).
    await waitUntil(() => /^State:\s+Z/m.test(readFileSync(`/proc/${run.pid}/status`, 'utf8')));
    expect(run.stdout()).toBe('bg-ran\n');
  });

  it('a missing executable is an error before ready', async () => {
    const run = new Run(containerPlan(rootfs, ['no-such-program']), { dir });
    expect(await run.error()).toMatch(/^exec no-such-program: executable file not found/);
    expect(run.records.some((r) => r[0] === 'ready')).toBe(false);
    expect((await run.exited).code).toBe(1);
  });

  it('a non-executable file is an error naming the path', async () => {
    writeFileSync(join(rootfs, 'data', 'notexec'), '#!/bin/sh\n');
    chmodSync(join(rootfs, 'data', 'notexec'), 0o644);
    const run = new Run(containerPlan(rootfs, ['/data/notexec']), { dir });
    expect(await run.error()).toBe('exec /data/notexec: Permission denied');
  });

  it('a failing mount names the step and the path', async () => {
    const run = new Run(sh('true', [['mount', 'nosuchfs', '/mnt/x', 'nosuchfs', 0, '', 0]]), { dir });
    expect(await run.error()).toBe('mount nosuchfs on /mnt/x: No such device');
  });

  it('a malformed plan is refused before any process exists', async () => {
    const run = new Run('berth-init 1\nmode create\nbogus 1\nend\n', { dir });
    expect(await run.error()).toBe('plan: unknown record bogus');
    expect(run.records.map((r) => r[0])).toEqual(['error']);
  });
});

describe('create: namespaces and root filesystem', () => {
  it('creates new pid, mount, uts, ipc and net namespaces', async () => {
    const run = new Run(containerPlan(rootfs, ['sleep', '30']), { dir });
    await run.waitFor('ready');
    for (const t of ['pid', 'mnt', 'uts', 'ipc', 'net']) {
      expect(nsLink(run.pid, t), t).not.toBe(nsLink('self', t));
    }
    expect(nsLink(run.pid, 'cgroup')).toBe(nsLink('self', 'cgroup')); // not asked for
    process.kill(run.pid, 'SIGKILL');
    expect(await run.exitStatus()).toBe(128 + 9);
  });

  it('pivots into the rootfs with its own /proc: the container sees only its files', async () => {
    const { status, out } = await runToExit(sh('echo pid=$$; ls /; test -e /work && echo LEAK; grep -c . /proc/self/mountinfo; ls /proc | grep -c "^[0-9]"'), { dir });
    expect(status).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines[0], out).toBe('pid=1');
    expect(lines.slice(1, -2), out).toEqual(readdirSync(rootfs).sort());
    expect(out).not.toContain('LEAK');
    expect(Number(lines.at(-2)), out).toBeLessThan(8); // rootfs, proc, dev, dev/pts: not the host's mounts
    expect(Number(lines.at(-1)), out).toBe(3); // sh, ls, grep: the only processes in the pid ns
  });

  it('chroots with MS_MOVE when pivot is 0', async () => {
    const plan = sh('ls /; echo pid=$$').map((r): PlanRecord => (r[0] === 'pivot' ? ['pivot', 0] : r));
    const { status, out } = await runToExit(plan, { dir });
    expect(status).toBe(0);
    expect(out).toContain('pid=1');
    expect(out).toContain('bin\n');
  });

  it('makes a read-only bind mount, and binds a file over a created file', async () => {
    const shared = join(dir, 'shared');
    mkdirSync(shared, { recursive: true });
    writeFileSync(join(shared, 'f'), 'from-host\n');
    writeFileSync(join(dir, 'hostfile'), 'single-file\n');
    const { status, out } = await runToExit(
      sh('cat /mnt/ro/f; touch /mnt/ro/new 2>/dev/null; echo touch=$?; cat /etc/conf/hostfile; grep " /mnt/ro " /proc/self/mountinfo', [
        ['mount', shared, '/mnt/ro', 'bind', MS.BIND | MS.REC | MS.RDONLY, '', 0],
        ['mount', join(dir, 'hostfile'), '/etc/conf/hostfile', 'bind', MS.BIND, '', MS.PRIVATE],
      ]),
      { dir },
    );
    expect(status).toBe(0);
    expect(out).toMatch(/^from-host\ntouch=1\nsingle-file\n.* \/mnt\/ro ro,/);
    expect(existsSync(join(shared, 'new'))).toBe(false);
  });

  it('resolves mount targets inside the rootfs: a symlink to / cannot put a mount on the host', async () => {
    execFileSync('ln', ['-sfn', '/', join(rootfs, 'escape')]);
    const target = join(dir, 'must-stay-empty');
    mkdirSync(target, { recursive: true });
    // /escape -> / resolves to the rootfs's own root, so the tmpfs lands on <rootfs>/<dir>/must-stay-empty.
    const { status } = await runToExit(sh('true', [['mount', 'tmpfs', `/escape${target}`, 'tmpfs', 0, '', 0]]), { dir });
    expect(status).toBe(0);
    expect(existsSync(join(rootfs, target))).toBe(true);
    removeDir(join(rootfs, dir.split('/')[1]!));
  });

  it('masks paths: files get /dev/null, directories an empty read-only tmpfs, missing ones are skipped', async () => {
    const { status, out } = await runToExit(
      sh('stat -c %t:%T /proc/timer_list; ls /proc/driver | wc -l; touch /proc/driver/x 2>/dev/null; echo touch=$?', [
        ['masked', '/proc/timer_list'],
        ['masked', '/proc/kcore'], // absent on this kernel: skipped
        ['masked', '/proc/driver'],
        ['masked', '/proc/does-not-exist'],
      ]),
      { dir },
    );
    expect(status).toBe(0);
    expect(out).toBe('1:3\n0\ntouch=1\n');
  });

  it('makes read-only paths and a read-only root', async () => {
    const { status, out } = await runToExit(
      sh('grep " /proc/sys " /proc/self/mountinfo | cut -d" " -f6; touch /data/x 2>/dev/null; echo data=$?; touch /tmp/x 2>/dev/null; echo tmp=$?', [
        ['readonly', '/proc/sys'],
        ['readonly', '/data'],
        ['readonly', '/nonexistent'],
        ['mount', 'tmpfs', '/tmp', 'tmpfs', 0, '', 0],
      ]),
      { dir },
    );
    expect(status).toBe(0);
    expect(out).toMatch(/^ro,.*\ndata=1\ntmp=0\n$/);

    const root = await runToExit(sh('touch /x 2>/dev/null; echo root=$?; touch /dev/y; echo dev=$?', [['rootreadonly']]), { dir });
    expect(root.out).toBe('root=1\ndev=0\n');
  });

  it('sets hostname, domainname and sysctls', async () => {
    const { out } = await runToExit(
      sh('hostname; cat /proc/sys/kernel/domainname /proc/sys/net/ipv4/ip_forward', [
        ['hostname', 'berth-test'],
        ['domainname', 'example.test'],
        ['sysctl', 'net.ipv4.ip_forward', '1'],
      ]),
      { dir },
    );
    expect(out).toBe('berth-test\nexample.test\n1\n');
  });

  it('creates device nodes with the plan\'s mode and owner, replacing existing files', async () => {
    const { out } = await runToExit(
      sh('stat -c "%F %t:%T %a %u:%g" /dev/null /dev/weird; readlink /dev/fd', [['mknod', '/dev/weird', 'c', 1, 5, 0o640, 7, 8]]),
      { dir },
    );
    expect(out).toBe('character special file 1:3 666 0:0\ncharacter special file 1:5 640 7:8\n/proc/self/fd\n');
  });
});

describe('create: process attributes', () => {
  it('sets rlimits', async () => {
    const { out } = await runToExit(sh('ulimit -n; ulimit -Hn', [['rlimit', 7, 1000, 2000]]), { dir });
    expect(out).toBe('1000\n2000\n');
  });

  it('sets the umask (0022 without a record)', async () => {
    expect((await runToExit(sh('umask', [['umask', '027']]), { dir })).out).toBe('0027\n');
    expect((await runToExit(sh('umask'), { dir })).out).toBe('0022\n');
  });

  it('switches user and groups', async () => {
    const { out } = await runToExit(sh('id; cat /proc/self/status | grep Groups', [['user', 1000, 1001], ['groups', 10, 20]]), { dir });
    expect(out).toBe('uid=1000 gid=1001 groups=10,20\nGroups:\t10 20 \n');
    const none = await runToExit(sh('grep Groups /proc/self/status', [['user', 5, 5], ['groups']]), { dir });
    expect(none.out).toMatch(/^Groups:\s*$/);
  });

  it('gives exactly the plan\'s environment and looks argv[0] up in its PATH', async () => {
    mkdirSync(join(rootfs, 'opt', 'tools'), { recursive: true });
    writeFileSync(join(rootfs, 'opt', 'tools', 'myprog'), '#!/bin/sh\necho "$FOO from myprog in $(pwd)"\nenv | sort\n', { mode: 0o755 });
    const plan = containerPlan(rootfs, ['myprog'], [['env', 'FOO=bar baz'], ['cwd', '/data']])
      .filter((r) => !(r[0] === 'env' && String(r[1]).startsWith('PATH=')) && !(r[0] === 'cwd' && r[1] === '/'))
      .concat([['env', 'PATH=/nowhere:/opt/tools:/bin']]);
    const { status, out } = await runToExit(plan, { dir });
    expect(status).toBe(0);
    expect(out).toBe('bar baz from myprog in /data\nFOO=bar baz\nPATH=/nowhere:/opt/tools:/bin\nPWD=/data\nSHLVL=1\n');
  });

  it('passes preserved fds and closes the control socket', async () => {
    const extra = join(dir, 'preserved');
    const fd = openSync(extra, 'w');
    try {
      const { out } = await runToExit(sh('echo via-fd3 >&3; [ -e /proc/self/fd/4 ] && echo LEAK; echo done'), { dir, preserve: [fd] });
      expect(out).toBe('done\n');
      expect(readFileSync(extra, 'utf8')).toBe('via-fd3\n');
    } finally {
      closeSync(fd);
    }
  });

  it('writes oom_score_adj and joins a cgroup before cloning', async () => {
    const cg = `/sys/fs/cgroup/pids/berth-init-test-${process.pid}-${Date.now()}`;
    mkdirSync(cg);
    cgroups.push(cg);
    const run = new Run(containerPlan(rootfs, ['sleep', '30'], [['oom', 500], ['cgroup', `${cg}/cgroup.procs`], ['unshare', 'cgroup']]), { dir });
    await run.waitFor('ready');
    expect(readFileSync(`/proc/${run.pid}/oom_score_adj`, 'utf8')).toBe('500\n');
    const procCgroup = readFileSync(`/proc/${run.pid}/cgroup`, 'utf8');
    expect(procCgroup).toMatch(new RegExp(`^\\d+:pids:${cg.replace('/sys/fs/cgroup/pids', '')}$`, 'm'));
    expect(readFileSync(`${cg}/cgroup.procs`, 'utf8')).toContain(String(run.pid));
    process.kill(run.pid, 'SIGKILL');
    expect(await run.exitStatus()).toBe(137);
  });
});

describe('create: cgroup joins that need no global lock', () => {
  // A v1 `tasks` file gets "0" (the helper's one thread); a cgroup2 directory is entered by
  // clone3(CLONE_INTO_CGROUP). Both foreground and with CLONE_PARENT, whose exit signal clone3
  // must leave unset.
  it.each([1, 0])('places the process in v1 and cgroup2 cgroups (foreground %i)', async (foreground) => {
    const name = `berth-init-join-${process.pid}-${Date.now()}-${foreground}`;
    const v1 = `/sys/fs/cgroup/pids/${name}`;
    const v2 = `/sys/fs/cgroup/unified/${name}`;
    for (const cg of [v1, v2]) {
      mkdirSync(cg);
      cgroups.push(cg);
    }
    const run = new Run(containerPlan(rootfs, ['sleep', '30'], [['foreground', foreground], ['cgroup', `${v1}/tasks`], ['cgroup', `${v2}/cgroup.procs`]]), { dir });
    await run.waitFor('ready');
    const procCgroup = readFileSync(`/proc/${run.pid}/cgroup`, 'utf8');
    expect(procCgroup).toMatch(new RegExp(`^\\d+:pids:/${name}$`, 'm'));
    expect(procCgroup).toMatch(new RegExp(`^0::/${name}$`, 'm'));
    process.kill(run.pid, 'SIGKILL');
    if (foreground) expect(await run.exitStatus()).toBe(137);
    else await waitUntilGone(run.pid);
  });
});

describe('create: a new cgroup namespace with a clone into cgroup2', () => {
  it('is rooted at the cgroups the process was placed in', async () => {
    const name = `berth-init-cgns-${process.pid}-${Date.now()}`;
    const v1 = `/sys/fs/cgroup/pids/${name}`;
    const v2 = `/sys/fs/cgroup/unified/${name}`;
    for (const cg of [v1, v2]) {
      mkdirSync(cg);
      cgroups.push(cg);
    }
    const { status, out } = await runToExit(sh('cat /proc/self/cgroup', [['cgroup', `${v1}/tasks`], ['cgroup', `${v2}/cgroup.procs`], ['unshare', 'cgroup']]), { dir });
    expect(status).toBe(0);
    expect(out).toMatch(/^\d+:pids:\/$/m);
    expect(out).toMatch(/^0::\/$/m);
  });
});

/** A CLONE_PARENT child is this worker's: wait until it is a zombie or gone, so its cgroups empty. */
async function waitUntilGone(pid: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    let stat = '';
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return;
    }
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`process ${pid} did not die`);
}

describe('create: hooks', () => {
  it('pauses for hooks, runs createContainer with the state on stdin and startContainer inside', async () => {
    const stateFile = join(dir, 'hook-state.json');
    const fifo = join(dir, 'fifo-hooks');
    execFileSync('mkfifo', [fifo]);
    const run = new Run(
      sh('cat /tmp/started', [
        ['execfifo', fifo],
        ['hookpause'],
        ['hook', 'createContainer', 5, '/bin/sh', 3, 'sh', '-c', `cat > ${stateFile}; echo " $HOOKVAR" >> ${stateFile}`, 'HOOKVAR=hv'],
        ['hook', 'startContainer', 0, '/bin/sh', 3, 'sh', '-c', 'echo start-hook $(cat) > /tmp/started'],
        ['mount', 'tmpfs', '/tmp', 'tmpfs', 0, '', 0],
      ]),
      { dir },
    );
    await run.waitFor('hooks');
    expect(existsSync(stateFile)).toBe(false);
    run.send(['resume', '{"id":"c1","status":"created"}']);
    await run.waitFor('ready');
    expect(readFileSync(stateFile, 'utf8')).toBe('{"id":"c1","status":"created"} hv\n');
    writeFileSync(fifo, 'x');
    expect(await run.exitStatus()).toBe(0);
    expect(run.stdout()).toBe('start-hook {"id":"c1","status":"created"}\n');
  });

  it('a failing createContainer hook is an error; a slow one times out', async () => {
    const failing = new Run(sh('true', [['hook', 'createContainer', 0, '/bin/false', 1, 'false']]), { dir });
    expect(await failing.error()).toBe('hook createContainer /bin/false: exit status 1');
    const slow = new Run(sh('true', [['hook', 'createContainer', 1, '/bin/sleep', 2, 'sleep', '10']]), { dir });
    expect(await slow.error()).toBe('hook createContainer /bin/sleep: timed out after 1s');
  });
});

describe('create: user namespace', () => {
  it('writes the id maps and becomes root inside; devices are bind-mounted; the fifo needs no access', async () => {
    const stateDir = join(dir, 'private-state');
    mkdirSync(stateDir, { mode: 0o700 }); // unreachable for the user namespace's root (host uid 100000)
    const fifo = join(stateDir, 'exec.fifo');
    execFileSync('mkfifo', ['-m', '0600', fifo]);
    const plan = containerPlan(rootfs, ['sh', '-c', 'id; cat /proc/self/uid_map /proc/self/gid_map; stat -c %t:%T /dev/null; stat -c %u /dev/mqueue'])
      .filter((r) => r[0] !== 'mknod')
      .concat([
        ['unshare', 'user'],
        ['uidmap', 0, 100000, 65536],
        ['gidmap', 0, 100000, 65536],
        ['binddev', '/dev/null', '/dev/null'],
        ['mount', 'mqueue', '/dev/mqueue', 'mqueue', MS.NOSUID | MS.NODEV | MS.NOEXEC, '', 0],
        ['execfifo', fifo],
      ]);
    const run = new Run(plan, { dir });
    await run.waitFor('ready');
    expect(readFileSync(`/proc/${run.pid}/uid_map`, 'utf8').trim().split(/\s+/)).toEqual(['0', '100000', '65536']);
    writeFileSync(fifo, 'x');
    expect(await run.exitStatus()).toBe(0);
    const lines = run.stdout().split('\n').map((l) => l.trim().replace(/\s+/g, ' '));
    expect(lines[0]).toMatch(/^uid=0\b.* gid=0\b/);
    // 0: the ipc namespace (and its mqueue root) was made by the container's root, as with runc
    expect(lines.slice(1)).toEqual(['0 100000 65536', '0 100000 65536', '1:3', '0', '']);
  });
});
