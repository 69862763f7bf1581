// What every command gets: the daemon connection (made on first use, from -H / BERTH_HOST) and
// small shared helpers over berth.engine.v1.
import type * as grpc from '@grpc/grpc-js';
import { connect, num, resolveHost, unary, type Api } from './api.js';

export interface Ctx {
  /** The daemon; connects on first use. */
  api(): Api;
  host(): string;
}

export function makeCtx(hostFlag: () => string | undefined): Ctx {
  let api: Api | undefined;
  return {
    host: () => resolveHost(hostFlag()),
    api: () => (api ??= connect(resolveHost(hostFlag()))),
  };
}

/** Docker's ContainerJSON for one container (throws NOT_FOUND as berthd does). */
export async function inspectContainer(ctx: Ctx, ref: string): Promise<ContainerJSON> {
  const r = await unary<{ inspectJson: Uint8Array }>((cb) => ctx.api().containers.inspect({ id: ref }, cb));
  return JSON.parse(Buffer.from(r.inspectJson).toString('utf8')) as ContainerJSON;
}

export interface ContainerJSON {
  Id: string;
  Name: string;
  State: { Status: string; Running: boolean; Paused: boolean; ExitCode: number; Error: string };
  Config: { Tty: boolean; OpenStdin: boolean; Image: string; [k: string]: unknown };
  HostConfig: { AutoRemove?: boolean; [k: string]: unknown };
  [k: string]: unknown;
}

/**
 * Runs a command in a running container and collects its output (for `cp`, which berth.engine.v1
 * has no archive call for yet): ExecCreate, then ExecStart with stdin when given.
 */
export async function execCollect(ctx: Ctx, id: string, cmd: string[], input?: NodeJS.ReadableStream | Buffer): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const { execId } = await unary<{ execId: string }>((cb) => ctx.api().containers.execCreate({
    id, config: { cmd, attachStdin: input !== undefined, attachStdout: true, attachStderr: true },
  }, cb));
  return new Promise((resolve, reject) => {
    const call = ctx.api().containers.execStart() as grpc.ClientDuplexStream<object, { stdout?: Uint8Array; stderr?: Uint8Array; exit?: { statusCode?: unknown } }>;
    const out: Buffer[] = [];
    let err = '';
    let code: number | undefined;
    call.on('data', (m) => {
      if (m.stdout?.length) out.push(Buffer.from(m.stdout));
      else if (m.stderr?.length) err += Buffer.from(m.stderr).toString();
      else if (m.exit) code = num(m.exit.statusCode);
    });
    call.on('error', reject);
    call.on('end', async () => {
      if (code === undefined) {
        const r = await unary<{ exitCode: unknown }>((cb) => ctx.api().containers.execInspect({ execId }, cb)).catch(() => ({ exitCode: 1 }));
        code = num(r.exitCode);
      }
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
    call.write({ start: { execId } });
    // berthd holds input sent before the exec runs (bounded, with back-pressure past that).
    if (Buffer.isBuffer(input)) {
      for (let at = 0; at < input.length; at += 1 << 20) call.write({ stdin: input.subarray(at, at + (1 << 20)) });
      call.write({ closeStdin: true });
    } else if (input !== undefined) {
      input.on('data', (d: Buffer) => call.write({ stdin: d }));
      input.on('end', () => call.write({ closeStdin: true }));
    }
  });
}
