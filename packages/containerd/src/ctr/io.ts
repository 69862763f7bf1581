/**
 * berth-ctr's terminal side of an attach: the local stdin (raw when -t) goes in, output comes
 * out, window size changes become resizes. Resolves when the stream ends.
 */
import type * as grpc from '@grpc/grpc-js';
import type { AttachRequest, AttachResponse, IAttachRequest } from '@berth/api/berth/tasks/v1';
import type { ContainerdClient } from '../client.js';

export interface AttachOptions {
  namespace: string;
  containerId: string;
  execId: string;
  tty: boolean;
  stdin: boolean;
}

export interface Attached {
  /** Resolves when the stream closes (the process ended, or the daemon went away). */
  done: Promise<void>;
  detach(): void;
}

export function attachIo(c: ContainerdClient, o: AttachOptions): Attached {
  const stream = c.tasks.attach() as grpc.ClientDuplexStream<IAttachRequest, AttachResponse>;
  stream.write({ start: { namespace: o.namespace, containerId: o.containerId, execId: o.execId, stdin: o.stdin, stdout: true, stderr: true } } satisfies IAttachRequest);
  const stdin = process.stdin;
  const raw = o.tty && stdin.isTTY;
  if (raw) stdin.setRawMode(true);
  const onData = (b: Buffer): void => {
    stream.write({ stdin: b });
  };
  const onEnd = (): void => {
    stream.write({ closeStdin: true });
  };
  const resize = (): void => {
    if (process.stdout.isTTY) stream.write({ resize: { containerId: o.containerId, execId: o.execId, rows: process.stdout.rows, cols: process.stdout.columns } });
  };
  if (o.stdin) {
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.resume();
  }
  if (o.tty) {
    resize();
    process.stdout.on('resize', resize);
  }
  let cleaned = false;
  const cleanup = (): void => {
    if (cleaned) return;
    cleaned = true;
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    stdin.pause();
    if (raw) stdin.setRawMode(false);
    process.stdout.off('resize', resize);
  };
  const done = new Promise<void>((resolve) => {
    stream.on('data', (m: AttachResponse) => {
      if (m.output === 'stdout') process.stdout.write(m.stdout ?? new Uint8Array());
      else if (m.output === 'stderr') process.stderr.write(m.stderr ?? new Uint8Array());
    });
    const fin = (): void => {
      cleanup();
      resolve();
    };
    stream.on('end', fin);
    stream.on('error', fin);
  });
  return {
    done,
    detach() {
      cleanup();
      stream.cancel();
    },
  };
}

export type { AttachRequest };
