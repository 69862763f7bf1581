/**
 * Error classes, as containerd's errdefs (STYLE.md): each maps one-to-one to a gRPC code. The
 * daemons throw them with context, convert once at their server boundary (toServiceError), and
 * convert the replies of the daemons they call back once at the client boundary
 * (fromServiceError). One module for every program, so a class is the same class everywhere.
 */
import * as grpc from '@grpc/grpc-js';

export class BerthError extends Error {
  readonly code: grpc.status = grpc.status.UNKNOWN;
  /** Docker's exit code for this failure when it ends a `run`/`start` (125, 126, 127). */
  exitCode?: number;
}
export class InvalidArgumentError extends BerthError {
  override name = 'InvalidArgumentError';
  override readonly code = grpc.status.INVALID_ARGUMENT;
}
export class NotFoundError extends BerthError {
  override name = 'NotFoundError';
  override readonly code = grpc.status.NOT_FOUND;
}
export class AlreadyExistsError extends BerthError {
  override name = 'AlreadyExistsError';
  override readonly code = grpc.status.ALREADY_EXISTS;
}
export class FailedPreconditionError extends BerthError {
  override name = 'FailedPreconditionError';
  override readonly code = grpc.status.FAILED_PRECONDITION;
}
export class UnavailableError extends BerthError {
  override name = 'UnavailableError';
  override readonly code = grpc.status.UNAVAILABLE;
}
export class NotImplementedError extends BerthError {
  override name = 'NotImplementedError';
  override readonly code = grpc.status.UNIMPLEMENTED;
}
export class InternalError extends BerthError {
  override name = 'InternalError';
  override readonly code = grpc.status.INTERNAL;
}

const byCode = new Map<grpc.status, new (message: string, options?: ErrorOptions) => BerthError>([
  [grpc.status.INVALID_ARGUMENT, InvalidArgumentError],
  [grpc.status.NOT_FOUND, NotFoundError],
  [grpc.status.ALREADY_EXISTS, AlreadyExistsError],
  [grpc.status.FAILED_PRECONDITION, FailedPreconditionError],
  [grpc.status.UNAVAILABLE, UnavailableError],
  [grpc.status.UNIMPLEMENTED, NotImplementedError],
  [grpc.status.INTERNAL, InternalError],
]);

export const isNotFound = (e: unknown): boolean => e instanceof NotFoundError;
export const isAlreadyExists = (e: unknown): boolean => e instanceof AlreadyExistsError;
export const isUnavailable = (e: unknown): boolean => e instanceof UnavailableError;
export const isFailedPrecondition = (e: unknown): boolean => e instanceof FailedPreconditionError;

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Metadata key carrying Docker's exit code (125/126/127) on a failed Start, for the CLI. */
export const EXIT_CODE_METADATA = 'berth-exit-code';

/** A gRPC status for an error thrown inside a handler (the server boundary). */
export function toServiceError(e: unknown): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  if (e instanceof BerthError) {
    if (e.exitCode !== undefined) metadata.set(EXIT_CODE_METADATA, String(e.exitCode));
    return { code: e.code, details: e.message, metadata };
  }
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'number' && code > 0 && code <= 16) {
    return { code, details: (e as { details?: string }).details || errorMessage(e), metadata };
  }
  return { code: grpc.status.UNKNOWN, details: errorMessage(e), metadata };
}

/** The error class for a failed gRPC call (the client boundary). */
export function fromServiceError(e: unknown, context?: string): Error {
  const se = e as Partial<grpc.ServiceError>;
  if (typeof se.code !== 'number') return e instanceof Error ? e : new Error(String(e));
  const Cls = byCode.get(se.code) ?? BerthError;
  let msg = se.details || se.message || 'unknown error';
  if (se.code === grpc.status.UNAVAILABLE && context) msg = `${context}: ${msg}`;
  const err = new Cls(msg, { cause: e });
  if (Cls === BerthError) (err as { code: grpc.status }).code = se.code;
  const exit = se.metadata?.get(EXIT_CODE_METADATA)[0];
  if (exit !== undefined) err.exitCode = Number(exit);
  return err;
}
