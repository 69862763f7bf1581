// The client's half of an attach or an exec: the terminal in raw mode, stdin and resizes up,
// output down, until berthd tells the exit, the detach keys were typed, or the stream ends.
import { spawnSync } from 'node:child_process';
import type * as grpc from '@grpc/grpc-js';
import { num } from './api.js';

interface Up {
  stdin?: Uint8Array;
  closeStdin?: boolean;
  resize?: { rows: number; cols: number };
}
interface Down {
  output?: string;
  stdout?: Uint8Array | null;
  stderr?: Uint8Array | null;
  exit?: { statusCode?: unknown; error?: string | null } | null;
  detached?: boolean | null;
  attached?: boolean | null;
}

export interface Interaction {
  /** The container's (or exec's) exit, when the stream told it. */
  exit?: { code: number; error: string };
  detached: boolean;
}

export interface InteractOptions {
  tty: boolean;
  stdin: boolean;
  /** berthd registered the attach (a created container may be started now). */
  onAttached?: () => void;
}

/** The client terminal's size, when stdout is one. */
export function terminalSize(): { rows: number; cols: number } | undefined {
  const out = process.stdout;
  if (!out.isTTY || !out.rows || !out.columns) return undefined;
  return { rows: out.rows, cols: out.columns };
}

export function interact(call: grpc.ClientDuplexStream<Up, Down>, o: InteractOptions): Promise<Interaction> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    const raw = o.tty && o.stdin && stdin.isTTY;
    if (raw) {
      stdin.setRawMode(true);
      // libuv's raw mode keeps output processing (ONLCR): the container's "\r\n" would reach the
      // screen as "\r\r\n". Docker's raw mode (cfmakeraw) turns it off; so does this. libuv
      // restores the whole saved termios when raw mode ends.
      spawnSync('stty', ['-opost'], { stdio: ['inherit', 'ignore', 'ignore'] });
    }
    const result: Interaction = { detached: false };
    const onWinch = (): void => {
      const size = terminalSize();
      if (size) call.write({ resize: size });
    };
    if (o.tty) process.on('SIGWINCH', onWinch);
    const onData = (d: Buffer): void => {
      call.write({ stdin: d });
    };
    const onEnd = (): void => {
      call.write({ closeStdin: true });
    };
    let settled = false;
    if (o.stdin) {
      stdin.on('data', onData);
      stdin.once('end', onEnd);
      stdin.resume();
    }
    const done = (e?: unknown): void => {
      if (settled) return;
      settled = true;
      if (o.tty) process.off('SIGWINCH', onWinch);
      if (o.stdin) {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.pause();
      }
      if (raw) stdin.setRawMode(false);
      if (e) reject(e);
      else resolve(result);
    };
    call.on('data', (m: Down) => {
      if (m.stdout?.length) process.stdout.write(m.stdout);
      else if (m.stderr?.length) process.stderr.write(m.stderr);
      else if (m.exit) result.exit = { code: num(m.exit.statusCode), error: m.exit.error ?? '' };
      else if (m.detached) result.detached = true;
      else if (m.attached) o.onAttached?.();
    });
    call.on('error', (e) => done(e));
    call.on('end', () => done());
  });
}
