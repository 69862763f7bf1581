/* The container's root filesystem: mounts inside the rootfs, /dev, pivot, /proc hardening. */
#ifndef BERTH_ROOTFS_H
#define BERTH_ROOTFS_H

#include "plan.h"

/* In the new mount namespace: root propagation, the parent mount made private, the rootfs
 * bound onto itself (pivot_root needs a mount point). Returns an O_PATH fd of the rootfs. */
int rootfs_prepare(const struct plan *p);
/* The ordered records: mount remount mknod binddev symlink. */
void rootfs_apply_ops(const struct plan *p, int rootfd);
/* pivot_root (or MS_MOVE + chroot) into the rootfs; the cwd ends at the new "/". */
void rootfs_enter(const struct plan *p, int rootfd);
/* After entering: sysctls, read-only paths, masked paths, read-only root. */
void rootfs_finish(const struct plan *p);

#endif
