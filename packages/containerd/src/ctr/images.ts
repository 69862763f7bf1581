/**
 * berth-ctr's image commands, as containerd's ctr does them: on the client side, over the
 * Content, Images, Snapshots and Leases services (the daemon needs no archive format).
 *
 * Import reads an archive into a scratch directory, then pushes every blob it references through
 * Content.Write (verified against its digest and size) under a lease, creates the image records,
 * and drops the lease: a GC in between never takes a half-imported image. Two archive kinds:
 * - an OCI image layout (oci-layout, index.json, blobs/), which is also what `docker save` writes
 *   since Docker 25 (with names in io.containerd.image.name);
 * - Docker's older `docker save` form (manifest.json, <id>.json configs, <id>/layer.tar), made
 *   into Docker schema 2 manifests.
 * Export writes an OCI image layout tar with a Docker manifest.json beside it, so `docker load`
 * takes it too.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ContainerdClient } from '../client.js';
import type { ContentStore } from '../content/index.js';
import { InvalidArgumentError, NotFoundError } from '@berth/api/errdefs';
import { chainIds, children, readConfig, resolveManifest, type ImageConfig, type Manifest } from '../images/resolve.js';
import { isIndex, isManifest, MediaType, type Descriptor } from '../images/media-types.js';
import { toNum } from '../long.js';
import { header, readTar, writeTar, type TarInput } from '../tar/index.js';

const REF_NAME = 'org.opencontainers.image.ref.name';
const CONTAINERD_NAME = 'io.containerd.image.name';
const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Docker's short names made whole: busybox → docker.io/library/busybox:latest. */
export function normalizeName(ref: string): string {
  if (ref.includes('@')) return ref;
  let name = ref;
  const first = name.split('/')[0]!;
  if (!name.includes('/')) name = `docker.io/library/${name}`;
  else if (!/[.:]/.test(first) && first !== 'localhost') name = `docker.io/${name}`;
  if (!/:[^/]+$/.test(name)) name += ':latest';
  return name;
}

/** The content store's reads, over the Content service (what resolve.ts needs). */
export function remoteContent(c: ContainerdClient): ContentStore {
  return {
    readAll: (digest: string) => c.readAll(digest),
    read: (digest: string) => c.readContent(digest),
  } as unknown as ContentStore;
}

/** Extracts an archive's regular files and directories into `dir` (symlinks resolved inside it). */
async function extract(file: string, dir: string): Promise<void> {
  const links: Array<[string, string]> = [];
  const inside = (name: string): string => {
    const p = resolve(dir, normalize(name).replace(/^(\.\.(\/|$))+/, ''));
    if (p !== dir && !p.startsWith(dir + sep)) throw new InvalidArgumentError(`${file}: member ${JSON.stringify(name)} points outside the archive`);
    return p;
  };
  for await (const e of readTar(createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>)) {
    const p = inside(e.header.name);
    if (e.header.type === 'dir') mkdirSync(p, { recursive: true });
    else if (e.header.type === 'file') {
      mkdirSync(dirname(p), { recursive: true });
      await pipeline(Readable.from(e.body), createWriteStream(p));
      continue;
    } else if (e.header.type === 'symlink' || e.header.type === 'link') {
      const target = e.header.type === 'link' ? inside(e.header.linkname) : inside(join(dirname(relative(dir, p)), e.header.linkname));
      links.push([p, target]);
    }
    for await (const _ of e.body) { /* skip */ }
  }
  // Old `docker save` archives link a layer shared by two images to the first copy.
  for (const [p, target] of links) {
    if (!existsSync(target)) continue;
    mkdirSync(dirname(p), { recursive: true });
    await pipeline(createReadStream(target), createWriteStream(p));
  }
}

export interface ImportOptions {
  /** Names the layout's index itself as an image (ctr's --index-name). */
  indexName?: string;
  /** Prefix for manifests whose ref name is a tag only (ctr's --base-name). */
  baseName?: string;
  /** Tells what happens (one line per image). */
  log?: (line: string) => void;
}

export interface Imported {
  name: string;
  target: Descriptor;
}

export async function importArchive(c: ContainerdClient, ns: string, file: string, o: ImportOptions = {}): Promise<Imported[]> {
  if (!existsSync(file)) throw new NotFoundError(`${file}: no such file`);
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'berth-import-')));
  const lease = await c.call(c.leases, (x) => x.create, { labels: { 'containerd.io/gc.expire': new Date(Date.now() + 3600_000).toISOString() } });
  const leaseId = lease.lease!.id;
  try {
    await extract(file, dir);
    const put = async (path: string, d: { digest: string; size: number }): Promise<void> => {
      await c.call(c.leases, (x) => x.addResource, { id: leaseId, resource: { type: 'content', id: d.digest } });
      const have = await c.call(c.content, (x) => x.info, { digest: d.digest }).then(() => true, (e: unknown) => {
        if (e instanceof NotFoundError) return false;
        throw e;
      });
      if (have) return;
      await c.writeContent(`import-${d.digest}`, createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>, d);
    };
    let images: Imported[];
    if (existsSync(join(dir, 'index.json')) && existsSync(join(dir, 'oci-layout'))) images = await importOci(dir, put, o);
    else if (existsSync(join(dir, 'manifest.json'))) images = await importDockerSave(dir, put, o);
    else throw new InvalidArgumentError(`${file}: neither an OCI image layout (oci-layout, index.json) nor a docker save archive (manifest.json)`);
    if (!images.length) throw new InvalidArgumentError(`${file}: no image in it has a name; give one with --index-name or --base-name`);
    for (const img of images) {
      const target = { mediaType: img.target.mediaType, digest: img.target.digest, size: img.target.size };
      try {
        await c.call(c.images, (x) => x.update, { namespace: ns, image: { name: img.name, target }, updateMask: ['target'] });
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
        await c.call(c.images, (x) => x.create, { namespace: ns, image: { name: img.name, target } });
      }
      o.log?.(`${img.name} (${img.target.digest})`);
    }
    return images;
  } finally {
    await c.call(c.leases, (x) => x.delete, { id: leaseId }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

type Put = (path: string, d: { digest: string; size: number }) => Promise<void>;

async function importOci(dir: string, put: Put, o: ImportOptions): Promise<Imported[]> {
  const blob = (d: Descriptor): string => {
    const [alg, hex] = d.digest.split(':');
    if (alg !== 'sha256' || !/^[0-9a-f]{64}$/.test(hex ?? '')) throw new InvalidArgumentError(`unsupported digest ${d.digest}`);
    return join(dir, 'blobs', 'sha256', hex!);
  };
  const indexBytes = readFileSync(join(dir, 'index.json'));
  const index = JSON.parse(indexBytes.toString('utf8')) as { manifests?: Descriptor[]; mediaType?: string };
  const seen = new Set<string>();
  const queue = [...(index.manifests ?? [])];
  while (queue.length) {
    const d = queue.pop()!;
    if (seen.has(d.digest)) continue;
    seen.add(d.digest);
    const path = blob(d);
    if (!existsSync(path)) throw new NotFoundError(`blob ${d.digest} (${d.mediaType}) is not in the archive`);
    await put(path, d);
    if (isIndex(d.mediaType)) queue.push(...((JSON.parse(readFileSync(path, 'utf8')) as { manifests?: Descriptor[] }).manifests ?? []));
    else if (isManifest(d.mediaType)) {
      const m = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
      queue.push(m.config, ...m.layers);
    }
  }
  const out: Imported[] = [];
  for (const m of index.manifests ?? []) {
    const ref = m.annotations?.[CONTAINERD_NAME] ?? m.annotations?.[REF_NAME];
    let name: string | undefined;
    if (ref && /[:/@]/.test(ref)) name = ref;
    else if (ref && o.baseName) name = `${o.baseName}:${ref}`;
    else if (ref && !o.indexName) name = ref;
    if (!name) continue;
    if (!/[:@]/.test(name.slice(name.lastIndexOf('/') + 1))) name += ':latest';
    out.push({ name, target: { mediaType: m.mediaType, digest: m.digest, size: m.size } });
  }
  if (o.indexName) {
    const digest = sha256(indexBytes);
    await put(join(dir, 'index.json'), { digest, size: indexBytes.length });
    out.push({ name: o.indexName, target: { mediaType: index.mediaType ?? MediaType.OciIndex, digest, size: indexBytes.length } });
  }
  return out;
}

/** `docker save` before Docker 25: manifest.json naming configs and uncompressed layer tars. */
async function importDockerSave(dir: string, put: Put, o: ImportOptions): Promise<Imported[]> {
  const entries = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { Config: string; RepoTags?: string[] | null; Layers: string[] }[];
  const out: Imported[] = [];
  const file = (p: string): string => {
    const abs = resolve(dir, p);
    if (!abs.startsWith(dir + sep)) throw new InvalidArgumentError(`manifest.json: ${p} points outside the archive`);
    return abs;
  };
  const digestOf = async (path: string): Promise<{ digest: string; size: number }> => {
    const h = createHash('sha256');
    for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(c as Buffer);
    return { digest: `sha256:${h.digest('hex')}`, size: statSync(path).size };
  };
  for (const e of entries) {
    const cfgPath = file(e.Config);
    const config = await digestOf(cfgPath);
    await put(cfgPath, config);
    const layers: Descriptor[] = [];
    for (const l of e.Layers) {
      const p = file(l);
      const d = await digestOf(p);
      const head = Buffer.alloc(2);
      const fd = createReadStream(p, { start: 0, end: 1 });
      for await (const c of fd) (c as Buffer).copy(head);
      layers.push({ mediaType: head[0] === 0x1f && head[1] === 0x8b ? MediaType.DockerLayerGzip : MediaType.DockerLayer, ...d });
      await put(p, d);
    }
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MediaType.DockerManifest,
      config: { mediaType: MediaType.DockerConfig, ...config }, layers,
    }));
    const mpath = join(dir, `.manifest-${out.length}.json`);
    await pipeline(Readable.from([manifest]), createWriteStream(mpath));
    const target = { mediaType: MediaType.DockerManifest, digest: sha256(manifest), size: manifest.length };
    await put(mpath, target);
    const names = (e.RepoTags ?? []).map(normalizeName);
    if (!names.length && o.indexName) names.push(o.indexName);
    for (const name of names) out.push({ name, target });
  }
  return out;
}

/** Every descriptor reachable from `target` whose blob is there (children of missing ones are not). */
async function reachable(c: ContainerdClient, target: Descriptor): Promise<{ present: Descriptor[]; missing: Descriptor[] }> {
  const store = remoteContent(c);
  const present: Descriptor[] = [];
  const missing: Descriptor[] = [];
  const seen = new Set<string>();
  const queue = [target];
  while (queue.length) {
    const d = queue.shift()!;
    if (seen.has(d.digest)) continue;
    seen.add(d.digest);
    try {
      await c.call(c.content, (x) => x.info, { digest: d.digest });
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
      missing.push(d);
      continue;
    }
    present.push(d);
    queue.push(...(await children(store, d)));
  }
  return { present, missing };
}

const descOf = (t: { mediaType?: string | null; digest?: string | null; size?: unknown } | null | undefined): Descriptor => ({
  mediaType: t?.mediaType ?? '', digest: t?.digest ?? '', size: toNum(t?.size as never),
});

export async function getImage(c: ContainerdClient, ns: string, name: string): Promise<{ name: string; target: Descriptor }> {
  for (const n of [...new Set([name, normalizeName(name)])]) {
    try {
      const r = await c.call(c.images, (x) => x.get, { namespace: ns, name: n });
      return { name: n, target: descOf(r.image?.target) };
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
    }
  }
  throw new NotFoundError(`image ${name}: not found`);
}

/** The image's manifest and config for this host. */
export async function imageConfig(c: ContainerdClient, target: Descriptor): Promise<{ manifest: Manifest; config: ImageConfig; desc: Descriptor }> {
  const store = remoteContent(c);
  const { desc, manifest } = await resolveManifest(store, target);
  return { desc, manifest, config: await readConfig(store, manifest) };
}

export interface ImageRow {
  name: string;
  mediaType: string;
  digest: string;
  size: number;
  platforms: string;
  labels: string;
}

export async function listImages(c: ContainerdClient, ns: string): Promise<ImageRow[]> {
  const r = await c.call(c.images, (x) => x.list, { namespace: ns });
  const rows: ImageRow[] = [];
  for (const img of r.images) {
    const target = descOf(img.target);
    let size = target.size;
    let platforms = '-';
    try {
      const { desc, manifest, config } = await imageConfig(c, target);
      size = (target.digest === desc.digest ? 0 : target.size) + desc.size + manifest.config.size + manifest.layers.reduce((a, l) => a + l.size, 0);
      platforms = `${config.os ?? '?'}/${config.architecture ?? '?'}`;
    } catch { /* content missing: the target's own size */ }
    rows.push({ name: img.name ?? '', mediaType: target.mediaType, digest: target.digest, size, platforms, labels: Object.entries(img.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '-' });
  }
  return rows;
}

export interface CheckRow {
  name: string;
  mediaType: string;
  digest: string;
  status: string;
  size: string;
  unpacked: boolean;
}

export async function checkImages(c: ContainerdClient, ns: string): Promise<CheckRow[]> {
  const r = await c.call(c.images, (x) => x.list, { namespace: ns });
  const rows: CheckRow[] = [];
  for (const img of r.images) {
    const target = descOf(img.target);
    const { present, missing } = await reachable(c, target);
    const total = present.length + missing.length;
    const have = present.reduce((a, d) => a + d.size, 0);
    const want = have + missing.reduce((a, d) => a + d.size, 0);
    let unpacked = false;
    let complete = !missing.length;
    try {
      const { config } = await imageConfig(c, target);
      const top = chainIds(config.rootfs.diff_ids).pop();
      unpacked = Boolean(top) && (await c.call(c.snapshots, (x) => x.stat, { key: top! }).then(() => true, () => false));
    } catch {
      complete = false;
    }
    rows.push({
      name: img.name ?? '', mediaType: target.mediaType, digest: target.digest,
      status: `${complete ? 'complete' : 'incomplete'} (${present.length}/${total})`, size: `${humanSize(have)}/${humanSize(want)}`, unpacked,
    });
  }
  return rows;
}

/** An OCI image layout tar of `names` (with Docker's manifest.json for single-platform images). */
export async function exportImages(c: ContainerdClient, ns: string, file: string, names: string[]): Promise<void> {
  const images = await Promise.all(names.map((n) => getImage(c, ns, n)));
  const blobs = new Map<string, Descriptor>();
  const dockerManifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const path = (d: Descriptor): string => `blobs/sha256/${d.digest.slice('sha256:'.length)}`;
  for (const img of images) {
    const { present, missing } = await reachable(c, img.target);
    // An index may list platforms that were never fetched; a manifest's own parts must be there.
    const bad = missing.filter((d) => !isManifest(d.mediaType) && !isIndex(d.mediaType));
    if (bad.length || missing.some((d) => d.digest === img.target.digest)) throw new NotFoundError(`image ${img.name}: content ${(bad[0] ?? missing[0])!.digest} is missing`);
    for (const d of present) blobs.set(d.digest, d);
    try {
      const { manifest } = await imageConfig(c, img.target);
      const short = img.name.replace(/^docker\.io\/(library\/)?/, '');
      dockerManifest.push({ Config: path(manifest.config), RepoTags: [short], Layers: manifest.layers.map(path) });
    } catch { /* no manifest for this host: OCI layout only */ }
  }
  const index = {
    schemaVersion: 2, mediaType: MediaType.OciIndex,
    manifests: images.map((img) => ({
      ...img.target,
      annotations: { [CONTAINERD_NAME]: img.name, [REF_NAME]: img.name.slice(img.name.lastIndexOf(':') + 1) },
    })),
  };
  const T = BigInt(Date.now()) * 1_000_000n;
  const json = (name: string, v: unknown): TarInput => {
    const body = Buffer.from(JSON.stringify(v));
    return { header: header({ name, type: 'file', size: body.length, mtimeNs: T }), body };
  };
  async function* entries(): AsyncGenerator<TarInput> {
    yield { header: header({ name: 'blobs/', type: 'dir', mtimeNs: T }) };
    yield { header: header({ name: 'blobs/sha256/', type: 'dir', mtimeNs: T }) };
    for (const d of blobs.values()) yield { header: header({ name: path(d), type: 'file', size: d.size, mtimeNs: T }), body: c.readContent(d.digest) };
    yield json('oci-layout', { imageLayoutVersion: '1.0.0' });
    yield json('index.json', index);
    if (dockerManifest.length === images.length) yield json('manifest.json', dockerManifest);
  }
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await pipeline(Readable.from(writeTar(entries())), createWriteStream(tmp));
    renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
}

export function humanSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i ? v.toFixed(1) : v} ${units[i]}`;
}
