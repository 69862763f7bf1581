/* Error reporting and small helpers. Errors travel as protocol records, never as stderr text:
 * the container's stderr belongs to the container. */
#define _GNU_SOURCE
#include "util.h"
#include "proto.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int g_report_fd = -1;
int g_in_child = 0;
pid_t g_kill_on_error = 0;

static __attribute__((noreturn)) void report_and_exit(const char *msg)
{
	if (g_report_fd >= 0)
		send_record(g_report_fd, "error", msg, (char *)NULL);
	if (g_in_child)
		_exit(1);
	if (g_kill_on_error > 0)
		kill(g_kill_on_error, SIGKILL);
	exit(1);
}

void die(const char *fmt, ...)
{
	int saved = errno;
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	size_t n = strlen(buf);
	snprintf(buf + n, sizeof buf - n, ": %s", strerror(saved));
	report_and_exit(buf);
}

void die_msg(const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	report_and_exit(buf);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die("malloc");
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die("realloc");
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		die("strdup");
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	char *out;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&out, fmt, ap);
	va_end(ap);
	if (r < 0)
		die("asprintf");
	return out;
}

uint64_t parse_u64(const char *s, int base, const char *what)
{
	char *end;
	errno = 0;
	if (!*s || *s == '-')
		die_msg("plan: bad number %s in %s", *s ? s : "''", what);
	unsigned long long v = strtoull(s, &end, base);
	if (errno || *end)
		die_msg("plan: bad number %s in %s", s, what);
	return v;
}

int64_t parse_i64(const char *s, const char *what)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || errno || *end)
		die_msg("plan: bad number %s in %s", *s ? s : "''", what);
	return v;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pfd = { .fd = fd, .events = POLLOUT };
				poll(&pfd, 1, -1);
				continue;
			}
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* procfs and cgroupfs want the value in a single write. */
	ssize_t n;
	do
		n = write(fd, data, len);
	while (n < 0 && errno == EINTR);
	int saved = errno;
	close(fd);
	if (n < 0) {
		errno = saved;
		return -1;
	}
	if ((size_t)n != len) {
		errno = EIO;
		return -1;
	}
	return 0;
}
