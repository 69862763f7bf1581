// The server boundary: every unary handler converts errors to a gRPC status exactly once here.
import type * as grpc from '@grpc/grpc-js';
import { toServiceError } from '@berth/api/errdefs';
import { DEFAULT_NAMESPACE } from '../metadata/db.js';
import { InvalidArgumentError } from '@berth/api/errdefs';

export function unary<Req, Res>(fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Res | Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, cb) => {
    Promise.resolve()
      .then(() => fn(call.request, call))
      .then((res) => cb(null, res), (e: unknown) => cb(toServiceError(e) as grpc.ServiceError));
  };
}

const NS_RE = /^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/;
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** The request's namespace: "default" when empty; validated as containerd does. */
export function namespaceOf(ns: string | null | undefined): string {
  const n = ns || DEFAULT_NAMESPACE;
  if (n.length > 76 || !NS_RE.test(n)) throw new InvalidArgumentError(`namespace ${JSON.stringify(n)} is not valid: lower-case letters, digits, '.', '_' and '-', at most 76`);
  return n;
}

export function validId(id: string | null | undefined, what = 'container id'): string {
  const v = id ?? '';
  if (!v || v.length > 76 || !ID_RE.test(v)) throw new InvalidArgumentError(`${what} ${JSON.stringify(v)} is not valid: letters, digits, '_', '.' and '-', starting with a letter or digit, at most 76`);
  return v;
}
