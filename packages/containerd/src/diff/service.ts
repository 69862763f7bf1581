// berth.diff.v1.Diff: layers applied onto, and taken from, overlay snapshots given by their
// mounts (an overlay's upperdir/lowerdir, or a bind of a parentless snapshot), without mounting.
// Register with `server.addService(DiffService, new DiffGrpc(content).handlers)`.
import { randomBytes, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { DiffServer, IMount } from '@berth/api/berth/diff/v1';
import { writeBlob, type ContentStore } from '../content/index.js';
import { InvalidArgumentError } from '@berth/api/errdefs';
import { toLong, toNum } from '../long.js';
import { unary } from '../services/handler.js';
import { applyLayer } from './apply.js';
import { diffTar } from './compare.js';
import { tap } from './decompress.js';

const GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
const TAR = 'application/vnd.oci.image.layer.v1.tar';

/** The writable directory and the layers below it, from a snapshot's mounts. */
export function layersOf(mounts: IMount[] | null | undefined): { upper: string; lowers: string[] } {
  const m = mounts?.[0];
  if (!m || mounts!.length !== 1) throw new InvalidArgumentError('diff: want the one mount of an overlay snapshot');
  const opt = (k: string): string | undefined => m.options?.find((o) => o.startsWith(`${k}=`))?.slice(k.length + 1);
  if (m.type === 'bind') return { upper: m.source ?? '', lowers: [] };
  if (m.type === 'overlay' && opt('upperdir')) return { upper: opt('upperdir')!, lowers: (opt('lowerdir') ?? '').split(':').filter(Boolean) };
  throw new InvalidArgumentError(`diff: mounts of type ${m.type} without an upperdir are not supported`);
}

export class DiffGrpc {
  readonly handlers: DiffServer;

  constructor(content: ContentStore) {
    this.handlers = {
      apply: unary(async (req) => {
        const { upper, lowers } = layersOf(req.mounts);
        const digest = req.diff?.digest ?? '';
        const r = await applyLayer(upper, lowers, content.read(digest));
        return { applied: { mediaType: TAR, digest: r.diffId, size: toLong(r.size) } };
      }),
      diff: unary(async (req) => {
        const { upper, lowers } = layersOf(req.right);
        const gzip = req.mediaType === GZIP;
        if (req.mediaType && !gzip && req.mediaType !== TAR) throw new InvalidArgumentError(`diff: media type ${req.mediaType}: want ${TAR} or ${GZIP}`);
        const h = createHash('sha256');
        const tar = tap(diffTar(upper, lowers), (c) => h.update(c));
        const body = (gzip ? Readable.from(tar).pipe(createGzip({ level: 1 })) : tar) as AsyncIterable<Buffer>;
        const info = await writeBlob(content, req.ref || `diff-${randomBytes(8).toString('hex')}`, body);
        return { diff: { mediaType: gzip ? GZIP : TAR, digest: info.digest, size: toLong(toNum(info.size)), annotations: { ...(req.labels ?? {}), 'containerd.io/uncompressed': `sha256:${h.digest('hex')}` } } };
      }),
    };
  }
}
