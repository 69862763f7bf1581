import { InvalidArgumentError, NotImplementedError } from '../errors.js';
import type { NamespaceType, Spec } from './types.js';

const NAMESPACE_TYPES: readonly NamespaceType[] = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'];
const ID_PATTERN = /^[\w+\-.]+$/;

/** Container ids as runc accepts them: they name directories and cgroups. */
export function validateId(id: string): void {
  if (!ID_PATTERN.test(id) || id === '.' || id === '..') {
    throw new InvalidArgumentError(`invalid container id ${JSON.stringify(id)}: use letters, digits, '_', '+', '-' and '.'`);
  }
}

/**
 * Checks a parsed config.json for what create needs, and refuses what berth-runc does not
 * implement: a spec field that would be silently ignored is a security bug.
 */
export function validateSpec(spec: Spec): void {
  if (typeof spec !== 'object' || spec === null) throw new InvalidArgumentError('config.json: not a JSON object');
  if (typeof spec.ociVersion !== 'string') throw new InvalidArgumentError('config.json: ociVersion is missing');
  if (!spec.root?.path) throw new InvalidArgumentError('config.json: root.path is missing');
  const proc = spec.process;
  if (!proc) throw new InvalidArgumentError('config.json: process is missing');
  if (!Array.isArray(proc.args) || proc.args.length === 0) {
    throw new InvalidArgumentError('config.json: process.args must hold at least the program to run');
  }
  if (typeof proc.cwd !== 'string' || !proc.cwd.startsWith('/')) {
    throw new InvalidArgumentError(`config.json: process.cwd must be an absolute path, not ${JSON.stringify(proc.cwd)}`);
  }
  if (!proc.user || typeof proc.user.uid !== 'number' || typeof proc.user.gid !== 'number') {
    throw new InvalidArgumentError('config.json: process.user.uid and gid are required');
  }
  if (proc.commandLine) throw new NotImplementedError('config.json: process.commandLine is for Windows');
  if (proc.selinuxLabel) throw new NotImplementedError('config.json: SELinux labels are not supported');
  if (proc.apparmorProfile) throw new NotImplementedError(`config.json: AppArmor profile ${proc.apparmorProfile} cannot be applied: AppArmor is not supported`);
  for (const m of spec.mounts ?? []) {
    if (typeof m.destination !== 'string' || !m.destination.startsWith('/')) {
      throw new InvalidArgumentError(`config.json: mount destination ${JSON.stringify(m.destination)} must be absolute`);
    }
    if (m.uidMappings || m.gidMappings) throw new NotImplementedError(`config.json: id-mapped mount on ${m.destination} is not supported`);
  }
  const linux = spec.linux;
  if (!linux) return;
  const seen = new Set<string>();
  for (const ns of linux.namespaces ?? []) {
    if (!NAMESPACE_TYPES.includes(ns.type)) {
      throw new InvalidArgumentError(`config.json: unknown namespace type ${JSON.stringify(ns.type)} (known: ${NAMESPACE_TYPES.join(', ')})`);
    }
    if (seen.has(ns.type)) throw new InvalidArgumentError(`config.json: namespace ${ns.type} is listed twice`);
    seen.add(ns.type);
    if (ns.type === 'time') throw new NotImplementedError('config.json: time namespaces are not supported');
  }
  const newUserNs = (linux.namespaces ?? []).some((n) => n.type === 'user' && !n.path);
  if ((linux.uidMappings?.length || linux.gidMappings?.length) && !newUserNs) {
    throw new InvalidArgumentError('config.json: uid/gid mappings need a new user namespace');
  }
  if (newUserNs && !(linux.uidMappings?.length && linux.gidMappings?.length)) {
    throw new InvalidArgumentError('config.json: a new user namespace needs uidMappings and gidMappings');
  }
  if ((spec.hostname || spec.domainname) && !(linux.namespaces ?? []).some((n) => n.type === 'uts' && !n.path)) {
    throw new InvalidArgumentError('config.json: hostname and domainname need a new uts namespace');
  }
  if (linux.mountLabel) throw new NotImplementedError('config.json: SELinux mount labels are not supported');
  if (linux.intelRdt) throw new NotImplementedError('config.json: Intel RDT is not supported');
  if (linux.timeOffsets) throw new NotImplementedError('config.json: time offsets are not supported');
  if (linux.personality) throw new NotImplementedError('config.json: personality is not supported');
  if (linux.seccomp?.listenerPath) throw new NotImplementedError('config.json: seccomp notify listeners are not supported');
  for (const d of linux.devices ?? []) {
    if (!['c', 'b', 'u', 'p'].includes(d.type)) throw new InvalidArgumentError(`config.json: device ${d.path}: unknown type ${JSON.stringify(d.type)}`);
    if (!d.path?.startsWith('/dev/')) throw new InvalidArgumentError(`config.json: device path ${JSON.stringify(d.path)} must be under /dev`);
  }
}
