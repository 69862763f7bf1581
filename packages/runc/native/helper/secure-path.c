/* openat2(RESOLVE_IN_ROOT) helpers. Every step resolves from the root fd, so a symlink swapped
 * in between two steps still cannot lead outside the root; creation happens relative to an
 * already-resolved parent fd with a plain name, which the kernel does not follow. */
#define _GNU_SOURCE
#include "secure-path.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int sp_open(int rootfd, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd;
	do
		fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
	while (fd < 0 && (errno == EINTR || errno == EAGAIN));
	return (int)fd;
}

int sp_mkdir_all(int rootfd, const char *path, mode_t mode)
{
	char *copy = xstrdup(path);
	size_t len = strlen(copy);
	/* Resolve ever longer prefixes from the root: "/a", "/a/b", ... */
	int cur = sp_open(rootfd, "/", O_PATH | O_DIRECTORY, 0);
	if (cur < 0)
		goto fail;
	for (size_t i = 0; i <= len; i++) {
		if (copy[i] != '/' && copy[i] != '\0')
			continue;
		if (i == 0 || copy[i - 1] == '/')
			continue; /* empty component */
		char saved = copy[i];
		copy[i] = '\0';
		int next = sp_open(rootfd, copy, O_PATH | O_DIRECTORY, 0);
		if (next < 0 && errno == ENOENT) {
			const char *name = strrchr(copy, '/');
			name = name ? name + 1 : copy;
			if (mkdirat(cur, name, mode) < 0 && errno != EEXIST)
				goto fail_cur;
			next = sp_open(rootfd, copy, O_PATH | O_DIRECTORY, 0);
		}
		if (next < 0)
			goto fail_cur;
		close(cur);
		cur = next;
		copy[i] = saved;
	}
	free(copy);
	return cur;
fail_cur: {
	int saved = errno;
	close(cur);
	errno = saved;
}
fail:
	free(copy);
	return -1;
}

int sp_parent(int rootfd, const char *path, char **base)
{
	char *copy = xstrdup(path);
	size_t len = strlen(copy);
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	char *slash = strrchr(copy, '/');
	char *name = slash ? slash + 1 : copy;
	if (!*name || !strcmp(name, ".") || !strcmp(name, "..")) {
		free(copy);
		errno = EINVAL;
		return -1;
	}
	*base = xstrdup(name);
	*name = '\0';
	int fd = sp_mkdir_all(rootfd, *copy ? copy : "/", 0755);
	int saved = errno;
	free(copy);
	errno = saved;
	return fd;
}

int sp_ensure(int rootfd, const char *path, int dir)
{
	int fd = sp_open(rootfd, path, O_PATH, 0);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	if (dir)
		return sp_mkdir_all(rootfd, path, 0755);
	char *base;
	int parent = sp_parent(rootfd, path, &base);
	if (parent < 0)
		return -1;
	int f = openat(parent, base, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
	int saved = errno;
	close(parent);
	free(base);
	if (f < 0 && saved != EEXIST) {
		errno = saved;
		return -1;
	}
	if (f >= 0)
		close(f);
	return sp_open(rootfd, path, O_PATH, 0);
}

const char *fd_path(int fd, char buf[static 32])
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
	return buf;
}
