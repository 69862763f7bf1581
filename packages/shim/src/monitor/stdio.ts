import { closeSync, openSync, write } from 'node:fs';
import { Socket } from 'node:net';
import { ReadStream } from 'node:tty';
import type { BerthNative } from '@berth/runc';
import type { Stream } from './log-writer.js';

export type OutputSink = (stream: Stream, chunk: Buffer) => void;

/**
 * One process's stdio as the shim holds it. Pipes come from pipe(2) (the container gets the
 * write ends of stdout/stderr and the read end of stdin, never a socket); a terminal is the pty
 * master the runtime sends over the console socket. The shim reads every byte and hands it to
 * `sink` (the log and attach clients); it holds stdin's write end until the process ends or
 * stdin is closed.
 */
export class ProcessIO {
  /** The container's fds 0, 1, 2 (for create/exec), until closeContainerEnds(). */
  containerFds: [number, number, number] | undefined;
  private readers: Array<Socket | ReadStream> = [];
  private stdinSock: Socket | undefined;
  private master: number | undefined;
  private masterQueue: Buffer[] = [];
  private masterWriting = false;
  private stdinClosed = false;
  private open = 0;
  private resolveDone!: () => void;
  /** Both output streams have ended (EOF, or the pty hung up). */
  readonly done: Promise<void> = new Promise((r) => (this.resolveDone = r));

  private constructor(
    private readonly native: BerthNative,
    private readonly sink: OutputSink,
    readonly terminal: boolean,
    private readonly onError: (msg: string) => void,
  ) {}

  /** Pipes for stdout and stderr, and for stdin when asked (else /dev/null). */
  static pipes(native: BerthNative, sink: OutputSink, stdin: boolean, onError: (m: string) => void): ProcessIO {
    const io = new ProcessIO(native, sink, false, onError);
    const [outR, outW] = native.pipe();
    const [errR, errW] = native.pipe();
    let inR: number;
    if (stdin) {
      const [r, w] = native.pipe();
      inR = r;
      io.stdinSock = new Socket({ fd: w, readable: false, writable: true });
      io.stdinSock.on('error', (e) => onError(`stdin: ${e.message}`));
    } else {
      inR = openSync('/dev/null', 'r');
    }
    io.containerFds = [inR, outW, errW];
    io.read(new Socket({ fd: outR, readable: true, writable: false }), 'stdout');
    io.read(new Socket({ fd: errR, readable: true, writable: false }), 'stderr');
    return io;
  }

  /** A terminal: the runtime will send the master; until then output waits. */
  static terminal(native: BerthNative, sink: OutputSink, onError: (m: string) => void): ProcessIO {
    const io = new ProcessIO(native, sink, true, onError);
    const devnull = openSync('/dev/null', 'r+');
    io.containerFds = [devnull, devnull, devnull];
    return io;
  }

  /** Takes the pty master: its output is the process's stdout, attach input goes into it. */
  attachMaster(fd: number, rows: number, cols: number): void {
    this.master = fd;
    if (rows && cols) this.resize(rows, cols);
    const rs = new ReadStream(fd);
    this.read(rs, 'stdout');
  }

  /** The container has its copies now (after create/exec): ours go, so EOF can come. */
  closeContainerEnds(): void {
    if (!this.containerFds) return;
    for (const fd of new Set(this.containerFds)) {
      try {
        closeSync(fd);
      } catch {
        // closed already
      }
    }
    this.containerFds = undefined;
  }

  writeStdin(data: Buffer): void {
    if (this.stdinClosed || data.length === 0) return;
    if (this.master !== undefined) {
      this.masterQueue.push(data);
      this.pumpMaster();
    } else {
      this.stdinSock?.write(data);
    }
  }

  /** End of input: the process reads EOF (a terminal gets ^D, as a user would type it). */
  closeStdin(): void {
    if (this.stdinClosed) return;
    if (this.master !== undefined) {
      this.writeStdin(Buffer.from([4]));
      this.stdinClosed = true;
      return;
    }
    this.stdinClosed = true;
    const s = this.stdinSock;
    this.stdinSock = undefined;
    if (s) s.end(() => s.destroy());
  }

  resize(rows: number, cols: number): void {
    if (this.master === undefined) return;
    try {
      this.native.setWinsize(this.master, rows, cols);
    } catch (err) {
      this.onError(`resize: ${(err as Error).message}`);
    }
  }

  get hasTerminal(): boolean {
    return this.master !== undefined;
  }

  /** Frees everything (the process has ended and its output was read, or we gave up waiting). */
  dispose(): void {
    this.closeContainerEnds();
    this.stdinClosed = true;
    this.stdinSock?.destroy();
    this.stdinSock = undefined;
    for (const r of this.readers) r.destroy();
    this.readers = [];
    this.master = undefined; // the ReadStream owns and closes it
    this.resolveDone();
  }

  private read(stream: Socket | ReadStream, name: Stream): void {
    this.open++;
    this.readers.push(stream);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      if (--this.open === 0) this.resolveDone();
    };
    stream.on('data', (chunk: Buffer) => this.sink(name, chunk));
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', (e: NodeJS.ErrnoException) => {
      // A pty master reads EIO once the last slave fd is closed: that is its EOF.
      if (e.code !== 'EIO') this.onError(`${name}: ${e.message}`);
      end();
    });
  }

  private pumpMaster(): void {
    if (this.masterWriting || this.master === undefined) return;
    const next = this.masterQueue.shift();
    if (!next) return;
    this.masterWriting = true;
    write(this.master, next, (err, n) => {
      this.masterWriting = false;
      if (err) {
        if (err.code === 'EAGAIN') {
          this.masterQueue.unshift(next);
          setTimeout(() => this.pumpMaster(), 10);
          return;
        }
        this.onError(`terminal input: ${err.message}`);
        this.masterQueue = [];
        return;
      }
      if (n < next.length) this.masterQueue.unshift(next.subarray(n));
      this.pumpMaster();
    });
  }
}
