/**
 * Reading an image's documents out of the content store: its children (index → manifests →
 * config and layers), the manifest for this host, its config and layers, and the chain IDs
 * naming its layers' snapshots (OCI image-spec: ChainID(L0) = DiffID(L0),
 * ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))).
 */
import { createHash } from 'node:crypto';
import type { ContentStore } from '../content/index.js';
import { FailedPreconditionError, NotFoundError } from '@berth/api/errdefs';
import { isConfig, isIndex, isManifest, type Descriptor, type Platform } from './media-types.js';
import { chooseManifest, hostPlatform } from './platform.js';

export interface Manifest {
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface ImageConfig {
  architecture?: string;
  os?: string;
  rootfs: { type: string; diff_ids: string[] };
  config?: Record<string, unknown>;
}

async function json<T>(store: ContentStore, d: Descriptor): Promise<T> {
  return JSON.parse((await store.readAll(d.digest)).toString('utf8')) as T;
}

/** The descriptors `d` refers to (empty for configs and layers). */
export async function children(store: ContentStore, d: Descriptor): Promise<Descriptor[]> {
  if (isIndex(d.mediaType)) return (await json<{ manifests?: Descriptor[] }>(store, d)).manifests ?? [];
  if (isManifest(d.mediaType)) {
    const m = await json<Manifest>(store, d);
    return [m.config, ...m.layers];
  }
  return [];
}

/** The manifest for `platform` under `target` (an index or a manifest). */
export async function resolveManifest(store: ContentStore, target: Descriptor, platform: Platform = hostPlatform()): Promise<{ desc: Descriptor; manifest: Manifest }> {
  let d = target;
  for (let depth = 0; isIndex(d.mediaType); depth++) {
    if (depth > 4) throw new FailedPreconditionError('image index nests too deeply');
    const idx = await json<{ manifests?: Descriptor[] }>(store, d);
    const chosen = chooseManifest(idx.manifests ?? [], platform);
    if (!chosen) throw new NotFoundError(`image has no manifest for ${platform.os}/${platform.architecture}${platform.variant ? '/' + platform.variant : ''}`);
    d = chosen;
  }
  if (!isManifest(d.mediaType)) throw new FailedPreconditionError(`unsupported image media type ${d.mediaType}`);
  return { desc: d, manifest: await json<Manifest>(store, d) };
}

export async function readConfig(store: ContentStore, m: Manifest): Promise<ImageConfig> {
  if (!isConfig(m.config.mediaType)) throw new FailedPreconditionError(`unsupported config media type ${m.config.mediaType}`);
  const c = await json<ImageConfig>(store, m.config);
  if (c.rootfs?.diff_ids?.length !== m.layers.length) throw new FailedPreconditionError(`image config lists ${c.rootfs?.diff_ids?.length ?? 0} diff IDs for ${m.layers.length} layers`);
  return c;
}

export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const prev = out[out.length - 1];
    out.push(prev === undefined ? d : `sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}`);
  }
  return out;
}
