/* Program lookup and execve. The lookup uses the container's PATH (from the plan's env, not
 * ours) and runs after the user switch, so "executable" means executable by that user. */
#define _GNU_SOURCE
#include "exec.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Used when the plan's environment has no PATH (as Docker's and runc's defaults). */
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* 0 if path is a regular file we may execute, else -1 with errno. */
static int executable(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -1;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		errno = EACCES;
		return -1;
	}
	return faccessat(AT_FDCWD, path, X_OK, AT_EACCESS);
}

void exec_resolve(const struct plan *p, struct exec_target *t)
{
	t->argv = xmalloc(sizeof(char *) * (size_t)(p->args.n + 1));
	for (int i = 0; i < p->args.n; i++)
		t->argv[i] = p->args.v[i].f[1];
	t->argv[p->args.n] = NULL;
	t->envp = xmalloc(sizeof(char *) * (size_t)(p->env.n + 1));
	const char *path_env = NULL;
	for (int i = 0; i < p->env.n; i++) {
		t->envp[i] = p->env.v[i].f[1];
		if (!strncmp(t->envp[i], "PATH=", 5))
			path_env = t->envp[i] + 5;
	}
	t->envp[p->env.n] = NULL;

	const char *name = t->argv[0];
	if (!*name)
		die_msg("exec: empty argv[0]");
	if (strchr(name, '/')) {
		if (executable(name) < 0)
			die("exec %s", name);
		t->path = xstrdup(name);
		return;
	}
	if (!path_env)
		path_env = DEFAULT_PATH;
	int first_err = 0;
	char *dirs = xstrdup(path_env), *save = dirs, *dir;
	while ((dir = strsep(&save, ":")) != NULL) {
		/* An empty PATH element means the current directory, as in execvp. */
		char *cand = xasprintf("%s/%s", *dir ? dir : ".", name);
		if (executable(cand) == 0) {
			t->path = cand;
			free(dirs);
			return;
		}
		if (errno != ENOENT && errno != ENOTDIR && !first_err)
			first_err = errno;
		free(cand);
	}
	free(dirs);
	if (first_err) {
		errno = first_err;
		die("exec %s", name);
	}
	die_msg("exec %s: executable file not found in PATH %s", name, path_env);
}

void exec_cloexec_from(int first)
{
	if (syscall(SYS_close_range, (unsigned)first, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	/* Kernels before 5.11: walk /proc/self/fd. */
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		die("list /proc/self/fd");
	int dfd = dirfd(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] == '.' || fd < first || fd == dfd)
			continue;
		int flags = fcntl(fd, F_GETFD);
		if (flags >= 0)
			fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
	}
	closedir(d);
}

void exec_run(const struct exec_target *t)
{
	execve(t->path, t->argv, t->envp);
}
