// berth_native against the real kernel and a real OCI runtime (Debian's runc). Runs as root.
// setChildSubreaper changes this whole test process: vitest gives each test file its own.
import { execFile, spawn } from 'node:child_process';
import {
  closeSync,
  copyFileSync,
  existsSync,
  fstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  read,
  readFileSync,
  readlinkSync,
  readSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadAddon } from './addon.js';

const native = loadAddon();
const run = promisify(execFile);
const readAsync = promisify(read);
const O_CLOEXEC = 0o2000000;

/** The open flags of one of our fds, as the kernel reports them. */
function fdFlags(fd: number): number {
  const m = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
  if (!m?.[1]) throw new Error(`no flags for fd ${fd}`);
  return parseInt(m[1], 8);
}

function fdLink(fd: number): string {
  return readlinkSync(`/proc/self/fd/${fd}`);
}

function readAll(fd: number, max = 4096): string {
  const buf = Buffer.alloc(max);
  const n = readSync(fd, buf, 0, max, null);
  return buf.subarray(0, n).toString();
}

function hasCapability(bit: number): boolean {
  const m = /^CapEff:\s+([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m?.[1] !== undefined && (BigInt(`0x${m[1]}`) & (1n << BigInt(bit))) !== 0n;
}

/** Runs `sh -c script`, which prints the pids of the background jobs it leaves behind. */
async function orphansOf(script: string): Promise<number[]> {
  const child = spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  // 'close': stdout has ended, and libuv has reaped sh, so its orphans are reparented by now.
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`sh exited ${code}`))));
  });
  return out.trim().split(/\s+/).map(Number);
}

function parentOf(pid: number): number {
  const m = /^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]);
}

describe('real pipes', () => {
  const fds: number[] = [];
  afterEach(() => {
    for (const fd of fds.splice(0)) closeSync(fd);
  });

  it('pipe() makes a close-on-exec FIFO pair that carries bytes', () => {
    const [r, w] = native.pipe();
    fds.push(r, w);
    expect(fstatSync(r).isFIFO()).toBe(true);
    expect(fstatSync(w).isFIFO()).toBe(true);
    expect(fdLink(r)).toMatch(/^pipe:\[\d+\]$/);
    expect(fdLink(w)).toBe(fdLink(r));
    expect(fdFlags(r) & O_CLOEXEC).toBe(O_CLOEXEC);
    expect(fdFlags(w) & O_CLOEXEC).toBe(O_CLOEXEC);
    writeSync(w, 'abc');
    expect(readAll(r)).toBe('abc');
  });

  it('lets a child reopen its stdout through /dev/stdout (a socketpair would not)', async () => {
    const [r, w] = native.pipe();
    fds.push(r, w);
    const child = spawn('sh', ['-c', 'echo reopened > /dev/stdout'], { stdio: ['ignore', w, 'inherit'] });
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(readAll(r)).toBe('reopened\n');
  });

  it('setCloexec() clears and sets FD_CLOEXEC', () => {
    const [r, w] = native.pipe();
    fds.push(r, w);
    native.setCloexec(w, false);
    expect(fdFlags(w) & O_CLOEXEC).toBe(0);
    expect(fdFlags(r) & O_CLOEXEC).toBe(O_CLOEXEC);
    native.setCloexec(w, true);
    expect(fdFlags(w) & O_CLOEXEC).toBe(O_CLOEXEC);
  });

  it('setPipeSize() resizes up to pipe-max-size, and past it only with CAP_SYS_RESOURCE', () => {
    const [r, w] = native.pipe();
    fds.push(r, w);
    expect(native.setPipeSize(w, 100_000)).toBe(131072); // rounded up to a power of two pages
    expect(native.getPipeSize(r)).toBe(131072);
    const max = Number(readFileSync('/proc/sys/fs/pipe-max-size', 'utf8'));
    expect(native.setPipeSize(w, max)).toBe(max);
    if (hasCapability(24 /* CAP_SYS_RESOURCE */)) {
      expect(native.setPipeSize(w, max * 2)).toBe(max * 2);
    } else {
      expect(() => native.setPipeSize(w, max * 2)).toThrow(
        expect.objectContaining({ code: 'EPERM', syscall: 'fcntl', errno: -1 }),
      );
    }
  });

  it('throws errno errors and argument errors', () => {
    expect(() => native.setCloexec(99999, true)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'fcntl' }));
    expect(() => native.setCloexec(-1, true)).toThrow(RangeError);
    expect(() => native.setPipeSize(0.5 as number, 4096)).toThrow(RangeError);
    expect(() => (native.setCloexec as (fd: unknown, on: unknown) => void)('1', true)).toThrow(TypeError);
  });
});

describe('fd passing', () => {
  const fds: number[] = [];
  afterEach(() => {
    for (const fd of fds.splice(0)) closeSync(fd);
  });

  it('socketpair() makes a connected pair of unix sockets', () => {
    const [a, b] = native.socketpair();
    fds.push(a, b);
    expect(fstatSync(a).isSocket()).toBe(true);
    expect(fdLink(a)).toMatch(/^socket:\[\d+\]$/);
    expect(fdLink(b)).not.toBe(fdLink(a));
    writeSync(a, 'ping');
    expect(readAll(b)).toBe('ping');
  });

  it('sendFd() and recvFd() move an open pipe end with its message', () => {
    const [a, b] = native.socketpair();
    const [r, w] = native.pipe();
    fds.push(a, b, r, w);
    native.sendFd(a, w, Buffer.from('stdout'));
    const got = native.recvFd(b);
    expect(got).not.toBeNull();
    const fd = got!.fd!;
    fds.push(fd);
    expect(got!.data.toString()).toBe('stdout');
    expect(fd).not.toBe(w);
    expect(fdLink(fd)).toBe(fdLink(w)); // the same pipe, a new descriptor
    expect(fdFlags(fd) & O_CLOEXEC).toBe(O_CLOEXEC);
    writeSync(fd, 'through the passed fd');
    expect(readAll(r)).toBe('through the passed fd');
  });

  it('recvFd() reports a message without an fd, and null at end of stream', () => {
    const [a, b] = native.socketpair();
    fds.push(b);
    writeSync(a, 'plain');
    expect(native.recvFd(b)).toEqual({ fd: null, data: Buffer.from('plain') });
    closeSync(a);
    expect(native.recvFd(b)).toBeNull();
  });

  it('rejects bad sockets and empty messages', () => {
    const devNull = openSync('/dev/null', 'r+');
    fds.push(devNull);
    expect(() => native.recvFd(devNull)).toThrow(expect.objectContaining({ code: 'ENOTSOCK', syscall: 'recvmsg' }));
    expect(() => native.sendFd(devNull, 0, Buffer.from('x'))).toThrow(expect.objectContaining({ code: 'ENOTSOCK', syscall: 'sendmsg' }));
    expect(() => native.sendFd(devNull, 0, Buffer.alloc(0))).toThrow(RangeError);
  });
});

describe('reaping orphans as a child subreaper', () => {
  beforeAll(() => native.setChildSubreaper());

  it('finds a reparented orphan and reaps its exit code', async () => {
    const [pid] = await orphansOf('(sleep 1; exit 7) >/dev/null 2>&1 & echo $!');
    expect(parentOf(pid!)).toBe(process.pid);
    expect(native.reapableChildren()).toContain(pid);
    expect(native.waitPid(pid!, true)).toBeNull(); // still sleeping
    expect(native.waitPid(pid!, false)).toEqual({ pid, exitCode: 7, signal: null, status: 7 << 8 });
    expect(native.reapableChildren()).not.toContain(pid);
    expect(() => native.waitPid(pid!, true)).toThrow(expect.objectContaining({ code: 'ECHILD', syscall: 'waitpid' }));
  });

  it('reports death by signal raw, and a pidfd follows the process until it is reaped', async () => {
    const [pid] = await orphansOf('sleep 30 >/dev/null 2>&1 & echo $!');
    const pidfd = native.pidfdOpen(pid!);
    try {
      expect(fdFlags(pidfd) & O_CLOEXEC).toBe(O_CLOEXEC);
      expect(readFileSync(`/proc/self/fdinfo/${pidfd}`, 'utf8')).toMatch(new RegExp(`^Pid:\\s+${pid}$`, 'm'));
      process.kill(pid!, 'SIGKILL');
      expect(native.waitPid(pid!, false)).toEqual({ pid, exitCode: null, signal: 9, status: 9 });
      expect(readFileSync(`/proc/self/fdinfo/${pidfd}`, 'utf8')).toMatch(/^Pid:\s+-1$/m);
    } finally {
      closeSync(pidfd);
    }
  });

  it('never waits on anything but one positive pid', () => {
    expect(() => native.waitPid(-1, true)).toThrow(RangeError);
    expect(() => native.waitPid(0, true)).toThrow(RangeError);
    expect(() => native.waitPid(1, true)).toThrow(expect.objectContaining({ code: 'ECHILD' }));
    expect(() => native.pidfdOpen(2 ** 31 - 1)).toThrow(expect.objectContaining({ code: 'ESRCH', syscall: 'pidfd_open' }));
  });
});

describe('console socket', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('listens at mode 0600 before returning, and times out, removing the socket', async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-console-'));
    const path = join(dir, 'c.sock');
    const started = Date.now();
    const pending = native.receiveConsole(path, 200);
    pending.catch(() => undefined); // awaited below; no unhandled rejection if a check fails first
    const st = statSync(path);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    await expect(pending).rejects.toMatchObject({ code: 'ETIMEDOUT', syscall: 'poll', path });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(existsSync(path)).toBe(false);
  });

  it('rejects a peer that sends no fd, and a path that is taken', async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-console-'));
    const path = join(dir, 'c.sock');
    const pending = native.receiveConsole(path, 5000);
    const peer = connect(path, () => peer.end('/dev/pts/0'));
    await expect(pending).rejects.toMatchObject({ code: 'EPROTO' });
    expect(existsSync(path)).toBe(false);

    writeFileSync(path, '');
    await expect(native.receiveConsole(path, 100)).rejects.toMatchObject({ code: 'EADDRINUSE', syscall: 'bind' });
    await expect(native.receiveConsole(join(dir, 'x'.repeat(120)), 100)).rejects.toMatchObject({ code: 'ENAMETOOLONG' });
  });
});

describe('console socket with a real OCI runtime (runc)', () => {
  let tmp = '';
  let id = '';
  let created = false;
  let initPid = 0;
  let pty = -1;
  let reading: Promise<unknown> = Promise.resolve();

  const runc = (...args: string[]) => run('runc', ['--root', join(tmp, 'state'), ...args], { timeout: 15_000 });

  beforeAll(() => native.setChildSubreaper());

  afterEach(async () => {
    if (created) await runc('delete', '-f', id).catch(() => undefined);
    // We are the subreaper, so the container's init became our child when `runc create` exited.
    for (let i = 0; initPid > 0 && i < 100; i++) {
      try {
        if (native.waitPid(initPid, true)) break;
      } catch {
        break; // ECHILD: not ours, or already reaped
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await reading; // the killed container closes the pty's slave side: a pending read ends
    if (pty >= 0) closeSync(pty);
    rmSync(tmp, { recursive: true, force: true });
    created = false;
    initPid = 0;
    pty = -1;
  });

  /** Reads the pty on the thread pool until `pattern` shows up (or the slave side closes). */
  function readUntil(fd: number, pattern: RegExp, timeoutMs: number): Promise<string> {
    let out = '';
    let done = false;
    const loop = (async () => {
      const buf = Buffer.alloc(4096);
      while (!done) {
        const n = await readAsync(fd, buf, 0, buf.length, null).then((r) => r.bytesRead, () => 0);
        if (n === 0) break; // EIO: the container side is gone
        out += buf.subarray(0, n).toString();
        if (pattern.test(out)) done = true;
      }
      return out;
    })();
    reading = loop;
    return Promise.race([
      loop,
      new Promise<string>((_, reject) =>
        setTimeout(() => {
          done = true;
          reject(new Error(`no ${pattern} on the pty within ${timeoutMs} ms; got ${JSON.stringify(out)}`));
        }, timeoutMs).unref(),
      ),
    ]);
  }

  it('receives the pty master from `runc create --console-socket`, resizes it and talks to sh', async () => {
    tmp = mkdtempSync(join(tmpdir(), 'berth-runc-'));
    id = `berth-addon-${process.pid}-${Date.now()}`;
    const bundle = join(tmp, 'bundle');
    mkdirSync(join(bundle, 'rootfs', 'bin'), { recursive: true });
    mkdirSync(join(tmp, 'state'));
    copyFileSync('/bin/busybox', join(bundle, 'rootfs', 'bin', 'busybox'));
    symlinkSync('busybox', join(bundle, 'rootfs', 'bin', 'sh'));
    await run('runc', ['spec'], { cwd: bundle });
    const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    config.process.terminal = true;
    config.process.args = ['sh'];
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));

    const sock = join(tmp, 'console.sock');
    const received = native.receiveConsole(sock, 10_000);
    received.catch(() => undefined); // awaited below; don't report it twice if create fails
    created = true;
    await runc('create', '--bundle', bundle, '--console-socket', sock, id);
    const { fd, name } = await received;
    pty = fd;
    expect(name).not.toBe('');
    expect(fdLink(fd)).toBe('/dev/pts/ptmx'); // a pty master
    expect(existsSync(sock)).toBe(false);

    const state = JSON.parse((await runc('state', id)).stdout) as { pid: number; status: string };
    expect(state.status).toBe('created');
    initPid = state.pid;
    expect(native.reapableChildren()).toContain(initPid);

    native.setWinsize(fd, 40, 100);
    expect(native.getWinsize(fd)).toEqual({ rows: 40, cols: 100 });

    await runc('start', id);
    // The echoed command line holds "$((6*7))"; only the shell's output holds "hi-42".
    const output = readUntil(fd, /hi-42/, 10_000);
    writeSync(fd, 'stty size; echo hi-$((6*7))\n');
    const text = await output;
    expect(text).toContain('stty size; echo hi-$((6*7))'); // the tty echoed what we typed
    expect(text).toMatch(/^40 100\r?$/m); // the container sees the size we set
    expect(text).toMatch(/^hi-42\r?$/m);

    await runc('delete', '-f', id);
    created = false;
    const status = native.waitPid(initPid, false);
    initPid = 0;
    expect(status).toMatchObject({ exitCode: null, signal: 9 });
  }, 30_000);
});

describe('clock', () => {
  it('reads the wall clock in nanoseconds', () => {
    const before = BigInt(Date.now()) * 1_000_000n;
    const ns = native.realtimeNs();
    const after = BigInt(Date.now() + 1) * 1_000_000n;
    expect(typeof ns).toBe('bigint');
    expect(ns >= before && ns <= after).toBe(true);
    expect(native.realtimeNs() >= ns).toBe(true);
  });
});
