// A container in the foreground (`run` without -d, `start -a`), as docker: Attach first (berthd
// makes a created container's task so the attach joins it before it starts), Start once berthd
// says the attach is registered, then stay with its stdio until the exit it tells, which berthd
// has recorded by then. The exit code comes from that message, or from a Wait made before the
// Start when the stream ends without one. `--rm` is berthd's (AutoRemove): it removes the
// container once the attached client has been told the exit.
import type * as grpc from '@grpc/grpc-js';
import { num, unary } from './api.js';
import type { Ctx } from './context.js';
import { proxySignals } from './signals.js';
import { interact, terminalSize } from './stdio.js';

export interface ForegroundOptions {
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  detachKeys: string;
  sigProxy: boolean;
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
  const call = api.containers.attach();
  try {
    let onAttached: () => void = () => undefined;
    const attached = new Promise<void>((r) => { onAttached = r; });
    call.write({ start: { id, stdin: o.stdin, stdout: o.stdout, stderr: o.stderr, logs: false, detachKeys: o.detachKeys } });
    const interaction = interact(call, { tty: o.tty, stdin: o.stdin, onAttached });
    interaction.catch(() => undefined);
    if (o.start) {
      // Until berthd has registered the attach (or the stream failed, which the start then tells).
      await Promise.race([attached, interaction.then(() => undefined, () => undefined)]);
      try {
        await unary((cb) => api.containers.start({ id }, cb));
      } catch (e) {
        call.cancel();
        throw e;
      }
    }
    const unproxy = o.sigProxy && !o.tty ? proxySignals((signal) => api.containers.kill({ id, signal }, () => undefined)) : () => undefined;
    let r;
    try {
      r = await interaction;
    } finally {
      unproxy();
    }
    if (r.detached) return 0;
    if (r.exit) return r.exit.code;
    return num((await waited).statusCode);
  } finally {
    waitCall?.cancel();
  }
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
