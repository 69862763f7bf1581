// Fresh --root and --state directories per test, removed after it.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { unwatchPath, watchPath } from './leaks.js';

export interface TempRoots {
  /** Parent of both; short, so socket paths beneath stay under 107 bytes. */
  dir: string;
  /** For --root (persistent data). */
  root: string;
  /** For --state (runtime data, sockets). */
  state: string;
  /** Removes both now (also done automatically when the test finishes). */
  cleanup(): void;
}

/** Mount points at or under `dir`, from this process's mount namespace. */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m === dir || m.startsWith(dir + '/'));
}

/**
 * Makes fresh temporary roots. Called inside a test, they are removed when the test finishes;
 * processes running inside them count as the test's own for the leak check. Refuses to delete
 * a tree that still has mounts in it (a recursive delete would cross into the mounted tree).
 */
export function tempRoots(): TempRoots {
  const dir = mkdtempSync('/tmp/berth-t-');
  const roots: TempRoots = {
    dir,
    root: join(dir, 'root'),
    state: join(dir, 'state'),
    cleanup() {
      unwatchPath(dir);
      const left = mountsUnder(dir);
      if (left.length) {
        throw new Error(`not removing ${dir}: still mounted beneath it:\n  ${left.join('\n  ')}`);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  mkdirSync(roots.root, { mode: 0o700 });
  mkdirSync(roots.state, { mode: 0o700 });
  watchPath(dir);
  try {
    onTestFinished(() => roots.cleanup());
  } catch {
    // Not inside a test (e.g. in beforeAll): the caller calls cleanup().
  }
  return roots;
}
