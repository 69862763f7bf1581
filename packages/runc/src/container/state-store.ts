import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AlreadyExistsError, NotFoundError } from '../errors.js';
import type { Hooks, Namespace, Process, Seccomp } from '../spec/types.js';

/** What berth-runc remembers about a container between its invocations. */
export interface ContainerRecord {
  id: string;
  bundle: string;
  rootfs: string;
  pid: number;
  /** The init's start time (clock ticks after boot, /proc/PID/stat field 22): tells a reused pid apart. */
  pidStartTime: number;
  created: string;
  annotations: Record<string, string>;
  cgroupPath: string;
  namespaces: Namespace[];
  /** The init's process, the default for exec. */
  process: Process;
  seccomp?: Seccomp;
  hooks: Pick<Hooks, 'poststart' | 'poststop'>;
  ociVersion: string;
}

/** `<root>/<id>/state.json` plus the exec fifo, one directory per container. */
export class StateStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return join(this.root, id);
  }

  execFifo(id: string): string {
    return join(this.dir(id), 'exec.fifo');
  }

  /** Claims the id: the directory's creation is the atomic test for a duplicate. */
  claim(id: string): void {
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    try {
      mkdirSync(this.dir(id), { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new AlreadyExistsError(`container with id ${id} already exists`);
      throw err;
    }
  }

  /** Written to a temporary file and renamed, so a crash leaves the old or the new record. */
  save(record: ContainerRecord): void {
    const path = join(this.dir(record.id), 'state.json');
    writeFileSync(path + '.tmp', JSON.stringify(record));
    renameSync(path + '.tmp', path);
  }

  load(id: string): ContainerRecord {
    try {
      return JSON.parse(readFileSync(join(this.dir(id), 'state.json'), 'utf8')) as ContainerRecord;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`container ${id} does not exist`);
      throw err;
    }
  }

  /** Ids of containers with a saved record (a directory without one is a create in progress). */
  list(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch {
      return [];
    }
    return names.filter((id) => {
      try {
        readFileSync(join(this.dir(id), 'state.json'));
        return true;
      } catch {
        return false;
      }
    });
  }

  remove(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
  }
}
