// The busybox test image (tools/build-test-image.sh), for tests of every package.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root directory. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const imageDir = join(repoRoot, 'build', 'test-image');
let checked = false;

function ensureBuilt(): void {
  if (checked) return;
  // The script is idempotent and returns in milliseconds when the image is current; it takes a
  // lock, so parallel workers calling this at once build it only once.
  execFileSync('bash', [join(repoRoot, 'tools', 'build-test-image.sh'), imageDir], { stdio: 'inherit' });
  checked = true;
}

/** Absolute path of the shared, read-mostly busybox rootfs; builds it if missing. */
export function testRootfs(): string {
  ensureBuilt();
  return join(imageDir, 'rootfs');
}

/** Absolute path of the test image as a tar (for `berth import` and image tests). */
export function testImageTar(): string {
  ensureBuilt();
  return join(imageDir, 'busybox.tar');
}

/**
 * Copies the rootfs to `dest` (which must not exist) for a test that writes into its root;
 * everything else should use testRootfs() read-only.
 */
export function copyTestRootfs(dest: string): string {
  if (existsSync(dest)) throw new Error(`copyTestRootfs: ${dest} already exists`);
  // cp -a keeps owners (home/berth is uid 1000), modes, symlinks and times; Node's cpSync does not keep owners.
  execFileSync('cp', ['-a', '--', testRootfs(), dest]);
  return dest;
}
