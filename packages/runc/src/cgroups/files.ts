import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError } from '../errors.js';

/** Small helpers for the one-value files cgroups are made of. */

export function readValue(dir: string, file: string): string {
  return readFileSync(join(dir, file), 'utf8').trim();
}

export function readNumber(dir: string, file: string): number {
  try {
    const v = readValue(dir, file);
    return v === 'max' ? -1 : Number(v);
  } catch {
    return 0;
  }
}

/** Writes a control file, saying which file and value when the kernel refuses. */
export function writeValue(dir: string, file: string, value: string | number): void {
  const path = join(dir, file);
  if (!existsSync(path)) {
    throw new InvalidArgumentError(`cgroup: cannot set ${file}: ${path} does not exist (is the controller enabled in this kernel?)`);
  }
  try {
    writeFileSync(path, String(value));
  } catch (err) {
    throw new InvalidArgumentError(`cgroup: cannot write ${JSON.stringify(String(value))} to ${path}: ${(err as Error).message}`);
  }
}

/** "key value" lines (memory.stat, cpu.stat, memory.events) as a record. */
export function readKeyValues(dir: string, file: string): Record<string, number> {
  const out: Record<string, number> = {};
  let text = '';
  try {
    text = readFileSync(join(dir, file), 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const [k, v] = line.split(/\s+/);
    if (k && v !== undefined) out[k] = Number(v);
  }
  return out;
}

export function readPids(procsFile: string): number[] {
  try {
    return readFileSync(procsFile, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
