/* Mounts are made on targets resolved inside the rootfs with openat2(RESOLVE_IN_ROOT) and
 * reached through /proc/self/fd/N, so a symlink in an image cannot redirect a mount onto the
 * host. A target fd must be reopened after mounting on it: the old fd still names the
 * directory underneath the new mount, and remount or propagation changes need the mount's
 * root. */
#define _GNU_SOURCE
#include "rootfs.h"
#include "secure-path.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define ATTR_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | \
		    MS_RELATIME | MS_STRICTATIME)

/* The per-mount flags a mount has now. In a user namespace the kernel refuses a remount that
 * would clear flags locked by a more privileged owner (nosuid, nodev, noexec, atime), so a
 * refused remount is retried with these added. */
static unsigned long locked_flags(const char *path)
{
	struct statvfs sv;
	if (statvfs(path, &sv) < 0)
		return 0;
	unsigned long f = 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

static int remount(const char *path, unsigned long flags)
{
	if (mount(NULL, path, NULL, flags, NULL) == 0)
		return 0;
	if (errno != EPERM)
		return -1;
	unsigned long locked = locked_flags(path);
	/* MS_RELATIME is the kernel default: asking for another atime mode clears it. */
	if (flags & (MS_NOATIME | MS_STRICTATIME))
		locked &= ~MS_RELATIME;
	return mount(NULL, path, NULL, flags | locked, NULL);
}

int rootfs_prepare(const struct plan *p)
{
	if (p->has_rootprop && mount(NULL, "/", NULL, p->rootprop, NULL) < 0)
		die("rootpropagation on /");
	if (p->parentmount && mount(NULL, p->parentmount, NULL, MS_PRIVATE, NULL) < 0)
		die("make %s private", p->parentmount);
	if (mount(p->rootfs, p->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		die("bind rootfs %s", p->rootfs);
	int fd = open(p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		die("open rootfs %s", p->rootfs);
	return fd;
}

static void do_mount(int rootfd, const struct record *r)
{
	const char *src = r->f[1], *dst = r->f[2], *fstype = r->f[3], *data = r->f[5];
	unsigned long flags = parse_u64(r->f[4], 10, "mount flags");
	unsigned long pflags = parse_u64(r->f[6], 10, "mount propagation");
	char buf[32];
	int is_dir = 1;

	if (flags & MS_BIND) {
		struct stat st;
		if (stat(src, &st) < 0)
			die("mount %s on %s: stat source", src, dst);
		is_dir = S_ISDIR(st.st_mode);
	}
	int fd = sp_ensure(rootfd, dst, is_dir);
	if (fd < 0)
		die("mount %s on %s: create mount point", src, dst);

	if (flags & MS_BIND) {
		if (mount(src, fd_path(fd, buf), NULL, MS_BIND | (flags & MS_REC), NULL) < 0)
			die("mount %s on %s", src, dst);
		close(fd);
		if (flags & ATTR_FLAGS) {
			fd = sp_open(rootfd, dst, O_PATH, 0);
			if (fd < 0)
				die("mount %s on %s: reopen", src, dst);
			if (remount(fd_path(fd, buf), MS_BIND | MS_REMOUNT | (flags & (ATTR_FLAGS | MS_REC))) < 0)
				die("remount %s on %s", src, dst);
			close(fd);
		}
	} else {
		if (mount(src, fd_path(fd, buf), fstype, flags, *data ? data : NULL) < 0)
			die("mount %s on %s", fstype, dst);
		close(fd);
	}
	if (pflags) {
		fd = sp_open(rootfd, dst, O_PATH, 0);
		if (fd < 0 || mount(NULL, fd_path(fd, buf), NULL, pflags, NULL) < 0)
			die("set propagation of %s", dst);
		close(fd);
	}
}

static void do_remount(int rootfd, const struct record *r)
{
	char buf[32];
	unsigned long flags = parse_u64(r->f[2], 10, "remount flags");
	int fd = sp_open(rootfd, r->f[1], O_PATH, 0);
	if (fd < 0)
		die("remount %s: open", r->f[1]);
	if (remount(fd_path(fd, buf), MS_REMOUNT | flags) < 0)
		die("remount %s", r->f[1]);
	close(fd);
}

static void do_mknod(int rootfd, const struct record *r)
{
	const char *dst = r->f[1], *kind = r->f[2];
	mode_t type;
	if (!strcmp(kind, "c"))
		type = S_IFCHR;
	else if (!strcmp(kind, "b"))
		type = S_IFBLK;
	else if (!strcmp(kind, "p"))
		type = S_IFIFO;
	else
		die_msg("plan: mknod %s: unknown type %s", dst, kind);
	unsigned maj = (unsigned)parse_u64(r->f[3], 10, "mknod major");
	unsigned min = (unsigned)parse_u64(r->f[4], 10, "mknod minor");
	mode_t mode = (mode_t)parse_u64(r->f[5], 10, "mknod mode") & 07777;
	uid_t uid = (uid_t)parse_u64(r->f[6], 10, "mknod uid");
	gid_t gid = (gid_t)parse_u64(r->f[7], 10, "mknod gid");

	char *base;
	int parent = sp_parent(rootfd, dst, &base);
	if (parent < 0)
		die("mknod %s: parent directory", dst);
	if (unlinkat(parent, base, 0) < 0 && errno != ENOENT)
		die("mknod %s: remove existing", dst);
	if (mknodat(parent, base, type | mode, makedev(maj, min)) < 0)
		die("mknod %s", dst);
	/* The umask is 0 during setup, but set the mode explicitly for setgid dirs and clarity. */
	if (fchmodat(parent, base, mode, 0) < 0)
		die("chmod %s", dst);
	if (fchownat(parent, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		die("chown %s", dst);
	close(parent);
	free(base);
}

static void do_binddev(int rootfd, const struct record *r)
{
	char buf[32];
	const char *host = r->f[1], *dst = r->f[2];
	int fd = sp_ensure(rootfd, dst, 0);
	if (fd < 0)
		die("bind device %s: create %s", host, dst);
	if (mount(host, fd_path(fd, buf), NULL, MS_BIND, NULL) < 0)
		die("bind device %s on %s", host, dst);
	close(fd);
}

static void do_symlink(int rootfd, const struct record *r)
{
	const char *target = r->f[1], *dst = r->f[2];
	char *base;
	int parent = sp_parent(rootfd, dst, &base);
	if (parent < 0)
		die("symlink %s: parent directory", dst);
	if (symlinkat(target, parent, base) < 0) {
		if (errno != EEXIST)
			die("symlink %s -> %s", dst, target);
		char cur[4096];
		ssize_t n = readlinkat(parent, base, cur, sizeof cur - 1);
		if (n < 0) {
			errno = EEXIST;
			die("symlink %s -> %s", dst, target);
		}
		cur[n] = '\0';
		if (strcmp(cur, target))
			die_msg("symlink %s -> %s: exists, pointing to %s", dst, target, cur);
	}
	close(parent);
	free(base);
}

void rootfs_apply_ops(const struct plan *p, int rootfd)
{
	for (int i = 0; i < p->rootfs_ops.n; i++) {
		const struct record *r = &p->rootfs_ops.v[i];
		const char *k = r->f[0];
		if (!strcmp(k, "mount"))
			do_mount(rootfd, r);
		else if (!strcmp(k, "remount"))
			do_remount(rootfd, r);
		else if (!strcmp(k, "mknod"))
			do_mknod(rootfd, r);
		else if (!strcmp(k, "binddev"))
			do_binddev(rootfd, r);
		else if (!strcmp(k, "symlink"))
			do_symlink(rootfd, r);
	}
}

void rootfs_enter(const struct plan *p, int rootfd)
{
	if (fchdir(rootfd) < 0)
		die("chdir %s", p->rootfs);
	if (p->pivot) {
		/* pivot_root(".", ".") stacks the old root on top of the new one; detaching it
		 * afterwards leaves only the rootfs, with no directory needed for the old root. */
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			die("pivot_root %s", p->rootfs);
		/* Slave first, so the detach cannot propagate an unmount back to the host. */
		if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
			die("make old root rslave");
		if (umount2(".", MNT_DETACH) < 0)
			die("detach old root");
	} else {
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
			die("move %s to /", p->rootfs);
		if (chroot(".") < 0)
			die("chroot %s", p->rootfs);
	}
	if (chdir("/") < 0)
		die("chdir /");
}

static void sysctl_set(const struct record *r)
{
	char *path = xasprintf("/proc/sys/%s", r->f[1]);
	for (char *c = path + 10; *c; c++)
		if (*c == '.')
			*c = '/';
	if (write_file(path, r->f[2], strlen(r->f[2])) < 0)
		die("sysctl %s=%s (%s)", r->f[1], r->f[2], path);
	free(path);
}

static void make_readonly(const char *path)
{
	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
		if (errno == ENOENT)
			return;
		die("readonly %s: bind", path);
	}
	/* A bind remount sets every per-mount flag: keep nosuid, nodev, noexec (as runc does),
	 * or making /proc/sys read-only would make it suid, dev and exec. */
	unsigned long keep = locked_flags(path) & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
	if (remount(path, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | keep) < 0)
		die("readonly %s: remount", path);
}

static void mask(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return;
		die("masked %s: stat", path);
	}
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", path, "tmpfs", MS_RDONLY, NULL) < 0)
			die("masked %s: mount tmpfs", path);
	} else if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0) {
		die("masked %s: bind /dev/null", path);
	}
}

void rootfs_finish(const struct plan *p)
{
	for (int i = 0; i < p->sysctls.n; i++)
		sysctl_set(&p->sysctls.v[i]);
	for (int i = 0; i < p->readonly.n; i++)
		make_readonly(p->readonly.v[i].f[1]);
	for (int i = 0; i < p->masked.n; i++)
		mask(p->masked.v[i].f[1]);
	if (p->rootreadonly && remount("/", MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags("/")) < 0)
		die("remount / read-only");
}
