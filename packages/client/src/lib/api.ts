// The one connection to berthd: the socket from -H, then BERTH_HOST, then /run/berth/berthd.sock
// (DESIGN.md), and the three berth.engine.v1 clients over it, made on first use.
import * as grpc from '@grpc/grpc-js';
import { ContainersClient, ImagesClient, SystemClient } from '@berth/api/berth/engine/v1';

export const DEFAULT_HOST = 'unix:///run/berth/berthd.sock';

/** The grpc-js target for -H / BERTH_HOST: `unix://PATH` or a bare absolute path. */
export function resolveHost(flag?: string, env = process.env): string {
  const h = flag || env.BERTH_HOST || DEFAULT_HOST;
  if (h.startsWith('unix://')) return h;
  if (h.startsWith('/')) return `unix://${h}`;
  throw new UsageError(`invalid host ${JSON.stringify(h)}: berth speaks only to a unix socket (unix:///path/to/berthd.sock)`);
}

/** A bad command line: Docker's exit 125 and "See 'berth X --help'.". */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface Api {
  host: string;
  containers: ContainersClient;
  images: ImagesClient;
  system: SystemClient;
  close(): void;
}

export function connect(host: string): Api {
  const creds = grpc.credentials.createInsecure();
  const opts: Partial<grpc.ClientOptions> = {
    'grpc.max_reconnect_backoff_ms': 1000,
    'grpc.max_receive_message_length': 64 << 20,
    'grpc.max_send_message_length': 64 << 20,
  };
  let containers: ContainersClient | undefined;
  let images: ImagesClient | undefined;
  let system: SystemClient | undefined;
  return {
    host,
    get containers() { return (containers ??= new ContainersClient(host, creds, opts)); },
    get images() { return (images ??= new ImagesClient(host, creds, opts)); },
    get system() { return (system ??= new SystemClient(host, creds, opts)); },
    close() {
      containers?.close();
      images?.close();
      system?.close();
    },
  };
}

/** A unary call as a promise: `await unary<Res>((cb) => api.containers.list(req, cb))`. */
export function unary<T>(fn: (cb: (e: grpc.ServiceError | null, r?: T) => void) => unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    fn((e, r) => (e ? reject(e) : resolve(r as T)));
  });
}

/** int64 fields decode as Long or number: a JS number. */
export const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(String(v)));
