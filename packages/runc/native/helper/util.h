/* Error reporting and small helpers shared by every stage of berth-runc-init. */
#ifndef BERTH_UTIL_H
#define BERTH_UTIL_H

#include <stdint.h>
#include <sys/types.h>

/* Where `error` records go: the control socket in the helper, the private channel in the
 * container process. die() never returns. */
extern int g_report_fd;
/* Set in the container process: die() must _exit() there (no atexit, no stdio flush). */
extern int g_in_child;
/* Helper only: a child to SIGKILL when setup fails (0: none). */
extern pid_t g_kill_on_error;

/* Reports `error <message>: <strerror(errno)>` and exits 1. */
__attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...);
/* Reports `error <message>` (no errno text) and exits 1. */
__attribute__((noreturn, format(printf, 1, 2))) void die_msg(const char *fmt, ...);

void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
__attribute__((format(printf, 1, 2))) char *xasprintf(const char *fmt, ...);

/* Number parsing for plan fields; a bad field is a plan error naming `what`. */
uint64_t parse_u64(const char *s, int base, const char *what);
int64_t parse_i64(const char *s, const char *what);

/* Writes all of buf, retrying on EINTR and waiting on EAGAIN (a peer may have set O_NONBLOCK
 * on a shared description; we never set it). Returns 0 or -1 with errno. */
int write_all(int fd, const void *buf, size_t len);
/* Writes a whole small file (procfs, cgroupfs). Returns 0 or -1 with errno. */
int write_file(const char *path, const char *data, size_t len);

#endif
