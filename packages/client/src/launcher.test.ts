// tools/bundle.mjs --code-cache (the `berth` bin): the launcher runs its bundle with a V8 code
// cache, and never with a cache made for other code.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const bundler = join(__dirname, '..', '..', '..', 'tools', 'bundle.mjs');
const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

function build(dir: string, says: string): void {
  writeFileSync(join(dir, 'main.ts'), `import { basename } from 'node:path';
const inner = (): string => ${JSON.stringify(says)};
process.stdout.write(\`\${inner()} \${basename(__filename)} \${process.argv.slice(2).join(',')}\\n\`);
process.exitCode = 3;
`);
  execFileSync(process.execPath, [bundler, join(dir, 'main.ts'), join(dir, 'dist', 'tool.cjs'), '--code-cache'], { cwd: dir, stdio: 'pipe' });
}
const run = (dir: string): { out: string; code: number | null } => {
  const r = spawnSync(process.execPath, [join(dir, 'dist', 'tool.cjs'), 'a', 'b'], { encoding: 'utf8', cwd: tmpdir() });
  return { out: r.stdout + r.stderr, code: r.status };
};

describe('the code-cache launcher', () => {
  it('runs the bundle, writes its cache once, takes it after, and drops it with a new build', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-launcher-'));
    dirs.push(dir);
    build(dir, 'one');
    const cache = join(dir, 'dist', 'tool.app.cjs.v8cache');
    expect(existsSync(cache)).toBe(false);
    expect(run(dir)).toEqual({ out: 'one tool.app.cjs a,b\n', code: 3 });
    const hash = readFileSync(join(dir, 'dist', 'tool.app.cjs'), 'utf8').split('\n')[0]!.replace('// berth bundle ', '');
    expect(hash).toMatch(/^[0-9a-f]{16}$/);
    expect(readFileSync(cache).subarray(0, 200).toString('latin1').split('\n')[0]).toBe(`${hash} ${process.version} ${process.arch}`);
    const written = statSync(cache).mtimeMs;
    expect(run(dir)).toEqual({ out: 'one tool.app.cjs a,b\n', code: 3 });
    expect(statSync(cache).mtimeMs).toBe(written); // taken, not rewritten

    build(dir, 'two');
    expect(existsSync(cache)).toBe(false);
    expect(run(dir).out).toBe('two tool.app.cjs a,b\n');
    expect(existsSync(cache)).toBe(true);
  });

  it('never runs a cache made for other code: a bundle the launcher was not built with, or a damaged cache', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-launcher-'));
    dirs.push(dir);
    build(dir, 'one');
    run(dir);
    const app = join(dir, 'dist', 'tool.app.cjs');
    const cache = join(dir, 'dist', 'tool.app.cjs.v8cache');
    const cached = readFileSync(cache);
    // Another build's bundle (same length) under the old launcher: a build caught half way.
    const original = readFileSync(app, 'utf8');
    writeFileSync(app, original.replace('"one"', '"uno"').replace(/^\/\/ berth bundle [0-9a-f]{16}/, '// berth bundle 0123456789abcdef'));
    expect(run(dir).out).toBe('uno tool.app.cjs a,b\n');
    expect(readFileSync(cache).equals(cached)).toBe(true); // neither taken nor overwritten
    writeFileSync(app, original);
    // The right header over a damaged body: V8 rejects it, and a good one is written.
    const header = cached.subarray(0, cached.indexOf(0x0a) + 1);
    writeFileSync(cache, Buffer.concat([header, Buffer.alloc(cached.length - header.length, 7)]));
    expect(run(dir).out).toBe('one tool.app.cjs a,b\n');
    expect(readFileSync(cache).equals(cached)).toBe(false);
    expect(readFileSync(cache).subarray(0, header.length).equals(header)).toBe(true);
    expect(run(dir).out).toBe('one tool.app.cjs a,b\n');
  });
});
