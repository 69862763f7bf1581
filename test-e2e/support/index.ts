// The test harness: temp roots, leak checks, the busybox test image.
export { tempRoots, type TempRoots } from './roots.js';
export {
  assertNoLeaks,
  findLeaks,
  formatLeaks,
  snapshotLeaks,
  useLeakCheck,
  watchPath,
  unwatchPath,
  type LeakOptions,
  type LeakSnapshot,
  type Leaks,
} from './leaks.js';
export { copyTestRootfs, repoRoot, testImageTar, testRootfs } from './test-image.js';
