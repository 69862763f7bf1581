// A container in the foreground (`run` without -d, `start -a`): berthd's Attach cannot join a
// container before it starts (berth.engine.v1 has no attach-then-start), so:
//   with stdin (-i): Start, then Attach with `logs` (the log holds what came before the attach;
//     the shim's live output follows), falling back to the log when it has already ended;
//   without stdin:   Start, then Logs(follow), which holds every line and ends with the container.
// The exit code comes from a Wait made before the Start, so even a short-lived container's is
// caught. A foreground `--rm` is done here, after the exit, so the log outlives the output.
import type * as grpc from '@grpc/grpc-js';
import { num, unary } from './api.js';
import type { Ctx } from './context.js';
import { isFailedPrecondition } from './errors.js';
import { proxySignals } from './signals.js';
import { interact, terminalSize } from './stdio.js';

export interface ForegroundOptions {
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  detachKeys: string;
  sigProxy: boolean;
  /** Remove the container after it ends (a foreground --rm). */
  remove: boolean;
  /** Start it (run, start -a); false to join a running one. */
  start: boolean;
}

/** Runs the container in the foreground and returns its exit code (0 when detached). */
export async function foreground(ctx: Ctx, id: string, o: ForegroundOptions): Promise<number> {
  const api = ctx.api();
  let waitCall: grpc.ClientUnaryCall | undefined;
  const waited = new Promise<{ statusCode: unknown; error: string }>((resolve, reject) => {
    waitCall = api.containers.wait({ id, condition: 'next-exit' }, (e, r) => (e ? reject(e) : resolve(r!)));
  });
  waited.catch(() => undefined);
  try {
    if (o.start) {
      try {
        await unary((cb) => api.containers.start({ id }, cb));
      } catch (e) {
        if (o.remove) await unary((cb) => api.containers.remove({ id, force: true }, cb)).catch(() => undefined);
        throw e;
      }
    }
    const unproxy = o.sigProxy && !o.tty ? proxySignals((signal) => api.containers.kill({ id, signal }, () => undefined)) : () => undefined;
    let detached = false;
    let exit: number | undefined;
    try {
      if (o.stdin) {
        const call = api.containers.attach();
        call.write({ start: { id, stdin: true, stdout: o.stdout, stderr: o.stderr, logs: true, detachKeys: o.detachKeys } });
        // The log holds whole lines only: a prompt written before the attach joined is redrawn
        // by a size one larger, then the real one (what docker attach does for the same reason).
        if (o.tty) redraw(call);
        try {
          const r = await interact(call, { tty: o.tty, stdin: true });
          detached = r.detached;
          exit = r.exit?.code;
        } catch (e) {
          if (!isFailedPrecondition(e)) throw e;
          await printLogs(ctx, id, false, o);
        }
      } else {
        await printLogs(ctx, id, true, o);
      }
    } finally {
      unproxy();
    }
    if (detached) return 0;
    const w = await waited;
    if (o.remove) await unary((cb) => api.containers.remove({ id, force: true }, cb)).catch(() => undefined);
    return exit ?? num(w.statusCode);
  } finally {
    waitCall?.cancel();
  }
}

/** The container's log to stdout/stderr; with follow, until it ends. */
export function printLogs(ctx: Ctx, id: string, follow: boolean, o: { stdout: boolean; stderr: boolean }, extra: object = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = ctx.api().containers.logs({ id, follow, stdout: o.stdout, stderr: o.stderr, ...extra });
    s.on('data', (m: { stream: string; data: Uint8Array }) => {
      if (m.stream === 'stderr') process.stderr.write(m.data);
      else process.stdout.write(m.data);
    });
    s.on('error', reject);
    s.on('end', () => resolve());
  });
}

/** docker attach: join a running container's stdio; its exit code, or 0 when detached. */
export async function attachTo(ctx: Ctx, id: string, o: { tty: boolean; stdin: boolean; detachKeys: string; sigProxy: boolean }): Promise<number> {
  const api = ctx.api();
  const call = api.containers.attach();
  call.write({ start: { id, stdin: o.stdin, stdout: true, stderr: true, logs: false, detachKeys: o.detachKeys } });
  if (o.tty) redraw(call);
  const unproxy = o.sigProxy && !o.tty ? proxySignals((signal) => api.containers.kill({ id, signal }, () => undefined)) : () => undefined;
  try {
    const r = await interact(call, { tty: o.tty, stdin: o.stdin });
    if (r.detached) return 0;
    if (r.exit) return r.exit.code;
  } finally {
    unproxy();
  }
  const w = await unary<{ statusCode: unknown }>((cb) => api.containers.wait({ id }, cb));
  return num(w.statusCode);
}

/** As docker attach: a size one larger, then the real one, so the program redraws its screen. */
function redraw(call: { write(m: object): unknown }): void {
  const size = terminalSize();
  if (!size) return;
  call.write({ resize: { rows: size.rows + 1, cols: size.cols + 1 } });
  call.write({ resize: size });
}
