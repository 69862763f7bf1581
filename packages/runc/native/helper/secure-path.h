/* Path resolution confined to a root directory with openat2(RESOLVE_IN_ROOT): `..` and
 * absolute symlinks inside an image stop at its root instead of escaping to the host. */
#ifndef BERTH_SECURE_PATH_H
#define BERTH_SECURE_PATH_H

#include <sys/types.h>

/* openat2(rootfd, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS). -1 with errno. */
int sp_open(int rootfd, const char *path, int flags, mode_t mode);
/* Creates every missing directory of path (mode) and returns an O_PATH fd of the last one.
 * -1 with errno. */
int sp_mkdir_all(int rootfd, const char *path, mode_t mode);
/* Returns an O_PATH fd of path's parent (created if missing) and sets *base to the last
 * component (a pointer into a copy). -1 with errno; EINVAL when path has no last component. */
int sp_parent(int rootfd, const char *path, char **base);
/* Ensures path exists as a directory (dir) or a file (!dir) and returns an O_PATH fd of it. */
int sp_ensure(int rootfd, const char *path, int dir);
/* The magic link through which a syscall taking a path reaches fd's object. */
const char *fd_path(int fd, char buf[static 32]);

#endif
