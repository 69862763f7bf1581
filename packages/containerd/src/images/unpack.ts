/**
 * Unpacking an image into snapshots: one committed snapshot per layer, named by its chain ID, so
 * a layer already unpacked (by any image with the same layers below it) is reused, not unpacked
 * again. Each layer is applied under a lease and its diff ID checked against the config's.
 */
import { randomBytes } from 'node:crypto';
import type { ContentStore } from '../content/index.js';
import { applyLayer } from '../diff/index.js';
import { AlreadyExistsError, FailedPreconditionError, NotFoundError } from '@berth/api/errdefs';
import type { LeaseStore } from '../gc/leases.js';
import type { OverlaySnapshotter } from '../snapshots/index.js';
import type { Descriptor, Platform } from './media-types.js';
import { chainIds, readConfig, resolveManifest } from './resolve.js';

export interface UnpackResult {
  /** The chain ID of the top layer: the parent for a container's snapshot. */
  chainId: string;
  /** Layers unpacked now (the rest were there already). */
  unpacked: number;
  layers: number;
}

export async function unpack(
  s: { content: ContentStore; snapshotter: OverlaySnapshotter; leases: LeaseStore },
  target: Descriptor,
  platform?: Platform,
): Promise<UnpackResult> {
  const { manifest } = await resolveManifest(s.content, target, platform);
  const config = await readConfig(s.content, manifest);
  const chain = chainIds(config.rootfs.diff_ids);
  const lease = s.leases.create('', { 'containerd.io/gc.expire': new Date(Date.now() + 3600_000).toISOString() });
  let unpacked = 0;
  try {
    for (const [i, layer] of manifest.layers.entries()) {
      const chainId = chain[i]!;
      const parent = i ? chain[i - 1]! : '';
      try {
        if (s.snapshotter.stat(chainId).kind === 'committed') continue;
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
      }
      const key = `extract-${randomBytes(6).toString('hex')}-${chainId}`;
      s.leases.addResource(lease.id, { kind: 'snapshots', id: key });
      s.snapshotter.prepare(key, parent);
      try {
        const r = await applyLayer(s.snapshotter.upperDir(key), s.snapshotter.parentDirs(key), s.content.read(layer.digest));
        const want = config.rootfs.diff_ids[i];
        if (r.diffId !== want) throw new FailedPreconditionError(`layer ${layer.digest}: its content has diff ID ${r.diffId}, the image config says ${want}`);
        try {
          s.snapshotter.commit(chainId, key);
        } catch (e) {
          if (!(e instanceof AlreadyExistsError)) throw e; // unpacked meanwhile by someone else
          s.snapshotter.remove(key);
        }
        unpacked++;
      } catch (e) {
        try {
          s.snapshotter.remove(key);
        } catch {
          // committed already, or gone
        }
        throw e;
      }
    }
  } finally {
    s.leases.delete(lease.id);
  }
  return { chainId: chain[chain.length - 1] ?? '', unpacked, layers: chain.length };
}
