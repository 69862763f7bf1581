/**
 * The snapshotter's contract, as containerd's core/snapshots. A snapshot is `active` (writable,
 * from prepare), `view` (read-only, from view) or `committed` (read-only, a parent for others).
 * Keys name active snapshots and views; commit turns an active one into a committed one under a
 * new name (for layers: its chain ID). A snapshot with children cannot be removed.
 */

export type Kind = 'active' | 'view' | 'committed';

export interface SnapshotInfo {
  /** The key (active, view) or name (committed). */
  name: string;
  /** The committed snapshot it was made from, '' for none. */
  parent: string;
  kind: Kind;
  labels: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}

export interface Usage {
  /** Bytes on disk (allocated blocks). */
  size: number;
  inodes: number;
}

/** A mount, as the OCI runtime spec and `mount(8)` take it. */
export interface Mount {
  type: string;
  source: string;
  target?: string;
  options: string[];
}

export interface Snapshotter {
  stat(key: string): SnapshotInfo;
  /** Replaces the labels (the only mutable field). */
  update(key: string, labels: Record<string, string>): SnapshotInfo;
  usage(key: string): Usage;
  mounts(key: string): Mount[];
  prepare(key: string, parent: string, labels?: Record<string, string>): Mount[];
  view(key: string, parent: string, labels?: Record<string, string>): Mount[];
  commit(name: string, key: string, labels?: Record<string, string>): void;
  remove(key: string): void;
  /** Every snapshot, parents before their children. */
  walk(): SnapshotInfo[];
  close(): void;
}
