/** Snapshots (containerd's core/snapshots shape) and the overlay snapshotter. */
export type { Kind, Mount, SnapshotInfo, Snapshotter, Usage } from './snapshotter.js';
export { diskUsage, OverlaySnapshotter } from './overlay.js';
export { isMountPoint, mountAll, unmountAll } from './mount.js';
export { SnapshotsGrpc } from './service.js';
