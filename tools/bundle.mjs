#!/usr/bin/env node
// Bundles one binary into one file: `node tools/bundle.mjs <entry.ts> <out.cjs> [--external=PKG]...`
// (run from the package's directory, as each package's `build` script does).
// One CommonJS file per binary starts faster than a tree of ES modules, and a running process
// never loads code from disk after start-up (DESIGN.md). Native `.node` addons stay external:
// they are built on install for this machine and loaded from beside the code.
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

const args = process.argv.slice(2);
const positional = args.filter((a) => !a.startsWith('--'));
const external = args.filter((a) => a.startsWith('--external=')).map((a) => a.slice('--external='.length));
if (positional.length !== 2) {
  console.error('usage: node tools/bundle.mjs <entry.ts> <out.cjs> [--external=PKG]...');
  process.exit(2);
}
const [entry, outfile] = positional;

let result;
try {
  result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: false,
    sourcemap: 'external',
    // Sources are ES modules; give them a working import.meta.url in the CommonJS bundle.
    banner: { js: '#!/usr/bin/env node\n"use strict";\nconst __berth_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
    define: { 'import.meta.url': '__berth_import_meta_url' },
    external: ['*.node', ...external],
    logLevel: 'warning',
    metafile: false,
  });
} catch {
  // esbuild has already printed the errors with their locations.
  process.exit(1);
}
if (result.errors.length) process.exit(1);
chmodSync(outfile, 0o755);
