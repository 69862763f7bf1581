#!/usr/bin/env node
// `npm run bench [-- --runs N --warmup N --only SUBSTRING]`: runs every bench/*.bench.mjs and prints
// one table: workload, Berth's median, each peer's median, and the ratio Berth/peer, all
// measured in the same run. Runs are interleaved (Berth, peer 1, peer 2, ..., again) with the
// order shuffled each round, so drift in the machine's load falls on every contender alike.
//
// A bench file exports `workloads`, an array of:
//   { name, berth, peers: [{ name, available: () => boolean, run }], setup?, teardown? }
// where `berth` and each `run` is an argv array (spawned, must exit 0), or a function of ctx that
// returns such an array (timed from the spawn) or a promise (timed until it settles). setup(ctx) runs once before and teardown(ctx) once after; ctx is a plain
// object the workload may fill (e.g. a temp directory) and is passed to every function.
// An optional summary(medians) returns a line printed under the table (medians by name, in ms).
// Peers that are not installed are listed as "missing".
// Figures other than elapsed time (memory, or a time that leaves out untimed preparation): in a
// workload that names its `unit` ('MiB', or 'ms' too), a function's promise may resolve to an
// object of numbers, the figures of that run, which replace its elapsed time: `{ value }` is one
// figure (the row is the workload's), any other keys are one row each (`<workload> <key>`); a
// peer may leave a key out. summary() then gets, per contender, its medians by key. Without
// `unit`, what a promise resolves to is ignored, as before.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const opts = { runs: 15, warmup: 2, only: '' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => argv[++i] ?? '';
    if (a === '--runs') opts.runs = Number(val());
    else if (a === '--warmup') opts.warmup = Number(val());
    else if (a === '--only') opts.only = val();
    else if (a === '-h' || a === '--help') {
      console.log('usage: npm run bench -- [--runs N] [--warmup N] [--only SUBSTRING]');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (!(opts.runs > 0) || !(opts.warmup >= 0)) throw new Error('--runs must be > 0 and --warmup >= 0');
  return opts;
}

/** Runs one contender once; returns elapsed milliseconds. */
async function timeOnce(what, ctx, ownFigures = false) {
  let cmd = Array.isArray(what) ? what : undefined;
  if (!cmd) {
    const start = process.hrtime.bigint();
    const r = what(ctx);
    if (!Array.isArray(r)) {
      const v = await r;
      const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
      return ownFigures && v !== null && typeof v === 'object' ? v : elapsed; // the run's own figures
    }
    cmd = r; // a function may compute the command (e.g. a fresh container id each run)
  }
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd[0], cmd.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw new Error(`${cmd.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr.toString().trim().slice(0, 300)}`);
  }
  return elapsed;
}

function shuffle(xs) {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const show = (x, unit = 'ms') => (x === undefined ? '-' : `${x.toFixed(1)} ${unit}`);

async function measure(workload, opts) {
  const ctx = {};
  const contenders = [{ name: 'berth', run: workload.berth }];
  const rows = [];
  for (const p of workload.peers ?? []) {
    let ok = false;
    try {
      ok = Boolean(p.available());
    } catch {
      ok = false;
    }
    if (ok) contenders.push({ name: p.name, run: p.run, peer: true });
    else rows.push({ peer: p.name, missing: true });
  }
  const times = new Map(contenders.map((c) => [c.name, []]));
  const errors = new Map();
  try {
    await workload.setup?.(ctx);
    for (let round = 0; round < opts.warmup + opts.runs; round++) {
      // A fresh random order every round: whoever runs right after a heavy contender (a Node
      // process still tearing down) is slowed, and a fixed rotation puts the same one there.
      const order = shuffle(contenders);
      for (const c of order) {
        if (errors.has(c.name)) continue;
        try {
          const t = await timeOnce(c.run, ctx, workload.unit !== undefined);
          if (round >= opts.warmup) times.get(c.name).push(t);
        } catch (e) {
          errors.set(c.name, e instanceof Error ? e.message : String(e));
        }
      }
      process.stderr.write('.');
    }
  } finally {
    await workload.teardown?.(ctx);
    process.stderr.write('\n');
  }
  const unit = workload.unit ?? 'ms';
  const figures = [...new Set([...times.values()].flat().filter((t) => typeof t === 'object').flatMap((t) => Object.keys(t)))];
  if (!figures.length) {
    const result = (name) => (errors.has(name) ? undefined : median(times.get(name)));
    const berth = result('berth');
    for (const c of contenders.filter((c) => c.peer)) rows.push({ peer: c.name, median: result(c.name) });
    if (!rows.length) rows.push({ peer: '-' });
    const medians = Object.fromEntries(contenders.map((c) => [c.name, result(c.name)]));
    return [{ name: workload.name, unit, berth, rows, errors, summary: workload.summary?.(medians) }];
  }
  // One row per figure; a contender without the figure shows '-'.
  const result = (name, f) => {
    const xs = times.get(name).map((t) => (typeof t === 'object' ? t[f] : undefined)).filter((x) => typeof x === 'number');
    return errors.has(name) || !xs.length ? undefined : median(xs);
  };
  const medians = Object.fromEntries(contenders.map((c) => [c.name, Object.fromEntries(figures.map((f) => [f, result(c.name, f)]))]));
  const out = figures.map((f) => {
    const fr = [...rows, ...contenders.filter((c) => c.peer).map((c) => ({ peer: c.name, median: result(c.name, f) }))];
    return { name: f === 'value' ? workload.name : `${workload.name} ${f}`, unit, berth: result('berth', f), rows: fr.length ? fr : [{ peer: '-' }], errors, quiet: true };
  });
  out[0].quiet = false; // the errors' messages once
  out[out.length - 1].summary = workload.summary?.(medians);
  return out;
}

function printTable(results) {
  const header = ['workload', 'Berth median', 'peer', 'peer median', 'ratio (Berth/peer)'];
  const lines = [];
  for (const r of results) {
    for (const row of r.rows) {
      const ratio = r.berth !== undefined && row.median ? `${(r.berth / row.median).toFixed(2)}x` : '-';
      lines.push([
        r.name,
        r.errors.has('berth') ? 'error' : show(r.berth, r.unit),
        row.peer,
        row.missing ? 'missing' : r.errors.has(row.peer) ? 'error' : show(row.median, r.unit),
        ratio,
      ]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cols) => cols.map((c, i) => c.padEnd(widths[i])).join(' | ').trimEnd();
  console.log(fmt(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const l of lines) console.log(fmt(l));
  for (const r of results) {
    if (r.summary) console.log(`\n${r.name}: ${r.summary}`);
    if (!r.quiet) for (const [who, msg] of r.errors) console.log(`\n${r.name}: ${who} failed: ${msg}`);
  }
}

const opts = parseArgs(process.argv.slice(2));
const files = readdirSync(here).filter((f) => f.endsWith('.bench.mjs')).sort();
const results = [];
for (const f of files) {
  const mod = await import(pathToFileURL(join(here, f)).href);
  for (const w of mod.workloads ?? []) {
    if (opts.only && !w.name.includes(opts.only)) continue;
    process.stderr.write(`bench: ${w.name} (${opts.warmup} warm-up + ${opts.runs} runs each) `);
    results.push(...(await measure(w, opts)));
  }
}
console.log(`\n${opts.runs} runs each after ${opts.warmup} warm-ups, interleaved; node ${process.version}, ${process.platform}/${process.arch}\n`);
printTable(results);
