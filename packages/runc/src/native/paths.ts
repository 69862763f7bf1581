import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Finds the package's native/build directory from wherever this code runs: the source tree
 * (vitest), or a bundle in dist/. BERTH_RUNC_NATIVE_DIR overrides it for installs that keep
 * the binaries elsewhere.
 */
export function nativeBuildDir(): string {
  const override = process.env.BERTH_RUNC_NATIVE_DIR;
  if (override) return override;
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, 'native', 'build');
    if (existsSync(join(dir, 'native', 'PROTOCOL.md'))) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new Error(`berth-runc: cannot find native/build above ${__dirname} (set BERTH_RUNC_NATIVE_DIR)`);
}

/** The single-threaded C helper that clones and sets up container processes. */
export function initHelperPath(): string {
  return join(nativeBuildDir(), 'berth-runc-init');
}

/** The N-API addon (fd passing, reaping, real pipes, pty size). */
export function addonPath(): string {
  return join(nativeBuildDir(), 'berth_native.node');
}
