// The container's root mounted and unmounted by berthd (as root, real overlay mounts).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InternalError, InvalidArgumentError } from '@berth/api/errdefs';
import { isMounted, mountSnapshot, unmountOverlay } from './overlay.js';

let dir: string;
let merged: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-rootfs-'));
  merged = join(dir, 'container', 'rootfs'); // made by mountSnapshot
  for (const d of ['lower', 'upper', 'work']) mkdirSync(join(dir, d));
});
afterEach(async () => {
  await unmountOverlay(merged);
  rmSync(dir, { recursive: true, force: true });
});

const overlay = (lowerdir: string) => [{ type: 'overlay', source: 'overlay', options: [`lowerdir=${lowerdir}`, `upperdir=${dir}/upper`, `workdir=${dir}/work`] }];

describe('mountSnapshot and unmountOverlay', () => {
  it('mounts the overlay once, and unmounts it (twice is no error)', async () => {
    writeFileSync(join(dir, 'lower', 'f'), 'image');
    await mountSnapshot(overlay(join(dir, 'lower')), merged);
    await mountSnapshot(overlay(join(dir, 'lower')), merged); // mounted already: nothing
    expect(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === merged)).toHaveLength(1);
    expect(readFileSync(join(merged, 'f'), 'utf8')).toBe('image');
    await unmountOverlay(merged);
    expect(isMounted(merged)).toBe(false);
    await unmountOverlay(merged);
  });

  it('a kernel refusal is an InternalError naming the root and the errno', async () => {
    const e = await mountSnapshot(overlay(join(dir, 'missing')), merged).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(InternalError);
    expect((e as Error).message).toMatch(`mounting the container's root at ${merged}: ENOENT`);
    expect(isMounted(merged)).toBe(false);
  });

  it('too many layers for mount(2) is an InvalidArgumentError', async () => {
    const lower = Array.from({ length: 200 }, () => join(dir, 'lower')).join(':'); // > 4095 bytes
    await expect(mountSnapshot(overlay(lower), merged)).rejects.toThrow(InvalidArgumentError);
    expect(isMounted(merged)).toBe(false);
  });
});
