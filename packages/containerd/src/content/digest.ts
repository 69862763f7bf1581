/** sha256 digests (`sha256:<64 hex>`), the only algorithm the store accepts. */
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '@berth/api/errdefs';

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** The digest, validated; throws InvalidArgument otherwise. */
export function parseDigest(d: string): { algorithm: 'sha256'; hex: string } {
  if (!DIGEST_RE.test(d)) throw new InvalidArgumentError(`invalid digest ${JSON.stringify(d)}: want sha256:<64 lowercase hex>`);
  return { algorithm: 'sha256', hex: d.slice(7) };
}

export const isDigest = (d: string): boolean => DIGEST_RE.test(d);

export function digestOf(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
