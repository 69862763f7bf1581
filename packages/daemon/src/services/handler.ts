// The server boundary: handlers convert errors to a gRPC status exactly once, here.
import type * as grpc from '@grpc/grpc-js';
import { toServiceError } from '@berth/api/errdefs';

export function unary<Req, Res>(fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Res | Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, cb) => {
    Promise.resolve()
      .then(() => fn(call.request, call))
      .then((res) => cb(null, res), (e: unknown) => cb(toServiceError(e) as grpc.ServiceError));
  };
}

/** Ends a server stream with the error's status. */
export function fail(call: { emit(event: 'error', e: unknown): boolean; destroyed?: boolean }, e: unknown): void {
  if (call.destroyed) return;
  call.emit('error', toServiceError(e));
}

export const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(String(v)));
export const big = (v: unknown): bigint => (v === null || v === undefined ? 0n : BigInt(String(v)));
