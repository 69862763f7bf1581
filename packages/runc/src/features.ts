import { CAPABILITY_NAMES, kernelLastCap } from './plan/capabilities.js';
import { SECCOMP_ACTIONS, SECCOMP_OPERATORS } from './plan/seccomp.js';

/** `berth-runc features`: what this runtime implements, in the shape runc prints (runtime-spec features.md). */
export function features() {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.2.0',
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: [
      'async', 'atime', 'bind', 'defaults', 'dev', 'diratime', 'dirsync', 'exec', 'mand', 'noatime', 'nodev', 'nodiratime',
      'noexec', 'nomand', 'norelatime', 'nostrictatime', 'nosuid', 'nosymfollow', 'private', 'rbind', 'relatime', 'remount',
      'ro', 'rprivate', 'rshared', 'rslave', 'runbindable', 'rw', 'shared', 'slave', 'strictatime', 'suid', 'sync', 'unbindable',
    ],
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts'],
      capabilities: CAPABILITY_NAMES.slice(0, kernelLastCap() + 1),
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: false },
      seccomp: {
        enabled: true,
        actions: SECCOMP_ACTIONS,
        operators: SECCOMP_OPERATORS,
        archs: ['SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
        knownFlags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
        supportedFlags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
      },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: { 'org.opencontainers.runc.checkpoint.enabled': 'false', 'io.github.berth.runtime': 'berth-runc' },
  };
}
