import { status as Code } from '@grpc/grpc-js';

/**
 * The shim's errors, one class per gRPC code (containerd's errdefs), converted once: to a
 * status in the server. berth-runc's own error classes map by name.
 */
export class ShimError extends Error {
  constructor(
    readonly code: Code,
    message: string,
  ) {
    super(message);
  }
  static notFound = (m: string) => new ShimError(Code.NOT_FOUND, m);
  static exists = (m: string) => new ShimError(Code.ALREADY_EXISTS, m);
  static precondition = (m: string) => new ShimError(Code.FAILED_PRECONDITION, m);
  static invalid = (m: string) => new ShimError(Code.INVALID_ARGUMENT, m);
  static fromRuntime = (m: string) => new ShimError(Code.UNKNOWN, m);
}

const BY_NAME: Record<string, Code> = {
  InvalidArgumentError: Code.INVALID_ARGUMENT,
  NotFoundError: Code.NOT_FOUND,
  AlreadyExistsError: Code.ALREADY_EXISTS,
  FailedPreconditionError: Code.FAILED_PRECONDITION,
  NotImplementedError: Code.UNIMPLEMENTED,
};

/** A gRPC status for any error thrown inside a handler. */
export function toStatus(err: unknown): { code: Code; details: string } {
  if (err instanceof ShimError) return { code: err.code, details: err.message };
  const e = err as Error;
  return { code: BY_NAME[e?.name] ?? Code.UNKNOWN, details: e?.message ?? String(err) };
}
