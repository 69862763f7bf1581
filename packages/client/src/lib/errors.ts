// Errors become an exit code and a message exactly once, in main.ts (STYLE.md): Docker's codes —
// 125 for a bad command line and for run/create failures, 1 for a daemon error elsewhere, and
// the container's own code where one is passed through (ExitError).
import * as grpc from '@grpc/grpc-js';
import { UsageError } from './api.js';

export { UsageError };

/** Ends the CLI with a code and, when given, a message on stderr. */
export class ExitError extends Error {
  override name = 'ExitError';
  constructor(readonly code: number, message = '') {
    super(message);
  }
}

export function isServiceError(e: unknown): e is grpc.ServiceError {
  return typeof (e as { code?: unknown })?.code === 'number' && 'details' in (e as object);
}

export const isNotFound = (e: unknown): boolean => isServiceError(e) && e.code === grpc.status.NOT_FOUND;
export const isFailedPrecondition = (e: unknown): boolean => isServiceError(e) && e.code === grpc.status.FAILED_PRECONDITION;

/** Docker's exit code berthd attached to a failed start (125, 126, 127), if any. */
export function daemonExitCode(e: unknown): number | undefined {
  if (!isServiceError(e)) return undefined;
  const v = e.metadata?.get('berth-exit-code')[0];
  return v === undefined ? undefined : Number(v);
}

/** The message a user sees for an error from berthd (Docker's "Error response from daemon: …"). */
export function describe(e: unknown, host: string): string {
  if (isServiceError(e)) {
    if (e.code === grpc.status.UNAVAILABLE) {
      return `Cannot connect to the Berth daemon at ${host}. Is berthd running? (${e.details || 'unavailable'})`;
    }
    if (e.code === grpc.status.UNIMPLEMENTED) return `Error response from daemon: not implemented by this berthd: ${e.details}`;
    return `Error response from daemon: ${e.details || e.message}`;
  }
  return e instanceof Error ? e.message : String(e);
}
