/**
 * Error classes, as containerd's errdefs: a fixed set that callers test with `instanceof`
 * and that each boundary converts once (to an exit code and message in the CLI, to a gRPC
 * status in the shim).
 */

export class RuntimeError extends Error {
  override name = 'RuntimeError';
}

/** The input is wrong: a bad config.json, flag or argument. */
export class InvalidArgumentError extends RuntimeError {
  override name = 'InvalidArgumentError';
}

/** No container with that id. */
export class NotFoundError extends RuntimeError {
  override name = 'NotFoundError';
}

/** A container with that id exists already. */
export class AlreadyExistsError extends RuntimeError {
  override name = 'AlreadyExistsError';
}

/** The operation is not allowed in the container's current state. */
export class FailedPreconditionError extends RuntimeError {
  override name = 'FailedPreconditionError';
}

/** The spec asks for something berth-runc does not implement. */
export class NotImplementedError extends RuntimeError {
  override name = 'NotImplementedError';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
