/**
 * Garbage collection, mark and sweep (containerd's gc): the roots are every image (all
 * namespaces), every live lease's resources and what the caller's `roots` adds (containers'
 * snapshot keys and anything else in use). From an image, the mark follows index → manifests →
 * config and layers, and from each manifest's config its layers' chain IDs to the committed
 * snapshots (and their parents). Everything unmarked is removed: snapshots leaves first, then
 * blobs, then ingests no writer holds. Nothing referenced is ever removed.
 */
import type { LocalContentStore } from '../content/index.js';
import { isDigest } from '../content/index.js';
import { NotFoundError } from '@berth/api/errdefs';
import type { ImageStore } from '../images/image-store.js';
import { isManifest, type Descriptor } from '../images/media-types.js';
import { chainIds, children, readConfig, type Manifest } from '../images/resolve.js';
import type { OverlaySnapshotter } from '../snapshots/index.js';
import type { LeaseStore } from './leases.js';

/** What else is in use: supplied by whoever owns containers (their snapshot keys). */
export interface GcRoots {
  snapshots?: string[];
  content?: string[];
}

export interface GcResult {
  content: string[];
  snapshots: string[];
  ingests: string[];
  leases: string[];
}

export async function collect(s: { content: LocalContentStore; snapshotter: OverlaySnapshotter; images: ImageStore; leases: LeaseStore }, roots: GcRoots = {}): Promise<GcResult> {
  const leases = s.leases.expire();
  const held = s.leases.held();
  const content = new Set<string>([...(roots.content ?? []), ...held.filter((r) => r.kind === 'content').map((r) => r.id)]);
  const snapRoots = new Set<string>([...(roots.snapshots ?? []), ...held.filter((r) => r.kind === 'snapshots').map((r) => r.id)]);
  const ingests = new Set<string>(held.filter((r) => r.kind === 'ingests').map((r) => r.id));

  // Mark content and the snapshots images unpack to.
  const queue: Descriptor[] = s.images.list().map((i) => i.target);
  while (queue.length) {
    const d = queue.pop()!;
    if (!isDigest(d.digest) || content.has(d.digest)) continue;
    content.add(d.digest);
    try {
      queue.push(...(await children(s.content, d)));
      if (isManifest(d.mediaType)) {
        const m = JSON.parse((await s.content.readAll(d.digest)).toString()) as Manifest;
        const cfg = await readConfig(s.content, m).catch(() => undefined);
        if (cfg) for (const c of chainIds(cfg.rootfs.diff_ids)) snapRoots.add(c);
      }
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e; // a missing child (partial pull) marks nothing more
    }
  }

  const all = s.snapshotter.walk();
  const byName = new Map(all.map((i) => [i.name, i]));
  const live = new Set<string>();
  for (const r of snapRoots) for (let k: string | undefined = r; k && byName.has(k) && !live.has(k); k = byName.get(k)!.parent) live.add(k);

  // Sweep: snapshots children first (walk lists parents first).
  const removedSnaps: string[] = [];
  for (const i of [...all].reverse()) {
    if (live.has(i.name)) continue;
    s.snapshotter.remove(i.name);
    removedSnaps.push(i.name);
  }
  const removedContent: string[] = [];
  for (const i of await s.content.list()) {
    if (content.has(i.digest)) continue;
    await s.content.delete(i.digest);
    removedContent.push(i.digest);
  }
  const removedIngests: string[] = [];
  for (const st of await s.content.listStatuses()) {
    if (ingests.has(st.ref) || s.content.isLocked(st.ref)) continue;
    await s.content.abort(st.ref);
    removedIngests.push(st.ref);
  }
  return { content: removedContent, snapshots: removedSnaps, ingests: removedIngests, leases };
}
