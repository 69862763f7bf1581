import { isAbsolute } from 'node:path';

/** The longest unix socket path the kernel accepts (sun_path is 108 bytes with its NUL). */
export const MAX_UNIX_PATH = 107;

/**
 * The grpc-js target for a unix socket path. Throws for a relative path or one the kernel
 * would refuse, so a bad path fails where it is made rather than as a vague connect error.
 */
export function unixAddress(path: string): string {
  if (!isAbsolute(path)) throw new Error(`unix socket path must be absolute: ${path}`);
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_UNIX_PATH) {
    throw new Error(`unix socket path is ${bytes} bytes, more than ${MAX_UNIX_PATH}: ${path}`);
  }
  return `unix://${path}`;
}
