/* Hooks: fork, execve with the state on stdin, wait with a timeout. The state goes through a
 * memfd rather than a pipe so a hook that never reads stdin cannot block us on a full pipe. */
#define _GNU_SOURCE
#include "hooks.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int run_one(const struct record *r, const char *state, char **err)
{
	const char *kind = r->f[1], *path = r->f[3];
	uint64_t timeout = parse_u64(r->f[2], 10, "hook timeout");
	int argc = (int)parse_u64(r->f[4], 10, "hook argc");
	char **argv = xmalloc(sizeof(char *) * (size_t)(argc + 1));
	for (int i = 0; i < argc; i++)
		argv[i] = r->f[5 + i];
	argv[argc] = NULL;
	char **envp = &r->f[5 + argc]; /* the record's field array ends with NULL */

	int memfd = memfd_create("berth-hook-state", MFD_CLOEXEC);
	if (memfd < 0 || write_all(memfd, state, strlen(state)) < 0 || lseek(memfd, 0, SEEK_SET) < 0) {
		*err = xasprintf("hook %s %s: state: %s", kind, path, strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		*err = xasprintf("hook %s %s: fork: %s", kind, path, strerror(errno));
		return -1;
	}
	if (pid == 0) {
		dup2(memfd, 0);
		execve(path, argv, envp);
		_exit(127);
	}
	close(memfd);
	free(argv);

	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int64_t deadline = timeout ? now_ms() + (int64_t)timeout * 1000 : -1;
	int status;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			*err = xasprintf("hook %s %s: wait: %s", kind, path, strerror(errno));
			return -1;
		}
		int wait_ms = -1;
		if (deadline >= 0) {
			int64_t left = deadline - now_ms();
			if (left <= 0) {
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				*err = xasprintf("hook %s %s: timed out after %llus", kind, path,
						 (unsigned long long)timeout);
				return -1;
			}
			wait_ms = left > 1000 ? 1000 : (int)left;
		}
		if (pidfd >= 0) {
			struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
			poll(&pfd, 1, wait_ms);
		} else {
			usleep(10000); /* no pidfd (old kernel): poll the child */
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		*err = xasprintf("hook %s %s: exit status %d", kind, path, WEXITSTATUS(status));
	else
		*err = xasprintf("hook %s %s: killed by signal %d", kind, path, WTERMSIG(status));
	return -1;
}

int hooks_run(const struct reclist *hooks, const char *state, char **err)
{
	for (int i = 0; i < hooks->n; i++)
		if (run_one(&hooks->v[i], state ? state : "", err) < 0)
			return -1;
	return 0;
}
