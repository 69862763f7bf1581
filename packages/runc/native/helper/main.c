/* berth-runc-init: reads a plan (PROTOCOL.md) from $BERTH_INIT_FD and runs it in two processes.
 *
 * The helper (this process, in the caller's namespaces) does the host-side steps, clones the
 * container process into its namespaces and relays what that process reports over a private
 * CLOEXEC socketpair to the control socket. The container process sets itself up and execs.
 * It never writes to the control socket: one writer keeps the record stream ordered, and the
 * channel's EOF at execve is how exec mode knows the program started. */
#define _GNU_SOURCE
#include "caps.h"
#include "console.h"
#include "exec.h"
#include "hooks.h"
#include "namespaces.h"
#include "plan.h"
#include "proto.h"
#include "rootfs.h"
#include "seccomp.h"
#include "util.h"

#include <errno.h>
#include <linux/magic.h>
#include <stdint.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

/* What the helper forwards to the container process in foreground mode. */
static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT };

struct ctx {
	struct plan plan;
	int ctl;	    /* control socket */
	struct reader ctl_r;
	int first_closed;   /* fds from here up are not passed to the program */
	int console_fd;
	int fifo_fd;	    /* the exec fifo, opened by the helper */
	unsigned long late_flags; /* namespaces the container process unshares itself */
	int late_cgroupns;	  /* unshare the cgroup namespace first thing: see clone_process */
	int chan[2];	    /* [0] helper end, [1] container end */
	int sigfd;
	sigset_t oldmask;
};

/* ---- the container process ------------------------------------------------------------ */

static void expect(struct reader *r, const char *name, struct record *rec)
{
	if (!read_record(r, rec))
		_exit(1); /* the helper is gone: nobody to report to */
	if (strcmp(rec->f[0], name))
		die_msg("protocol: expected %s from the helper, got %s", name, rec->f[0]);
}

static void set_rlimits(const struct plan *p)
{
	for (int i = 0; i < p->rlimits.n; i++) {
		const struct record *r = &p->rlimits.v[i];
		int res = (int)parse_u64(r->f[1], 10, "rlimit resource");
		struct rlimit rl;
		rl.rlim_cur = strcmp(r->f[2], "-1") ? parse_u64(r->f[2], 10, "rlimit") : RLIM_INFINITY;
		rl.rlim_max = strcmp(r->f[3], "-1") ? parse_u64(r->f[3], 10, "rlimit") : RLIM_INFINITY;
		if (setrlimit(res, &rl) < 0)
			die("setrlimit %d soft %s hard %s", res, r->f[2], r->f[3]);
	}
}

static __attribute__((noreturn)) void container_main(struct ctx *c)
{
	struct plan *p = &c->plan;
	g_in_child = 1;
	g_report_fd = c->chan[1];
	g_kill_on_error = 0;
	close(c->chan[0]);
	close(c->ctl);
	if (c->sigfd >= 0)
		close(c->sigfd);
	/* Undo what the helper set for itself: blocked signals, ignored SIGPIPE. */
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, &c->oldmask, NULL);
	umask(0); /* device nodes and mount points get exactly the plan's modes */

	struct reader r;
	reader_init(&r, c->chan[1]);
	struct record rec;

	/* Cloned into its cgroup2 cgroup, the process makes its cgroup namespace now, so that the
	 * namespace's root is that cgroup (at clone the kernel would take the helper's). */
	if (c->late_cgroupns && unshare(CLONE_NEWCGROUP) < 0)
		die("unshare the cgroup namespace");

	if (c->late_flags) {
		/* A new user namespace: the other namespaces are made now, by its root, as runc
		 * does: what they create at birth (the ipc namespace's mqueue root) is then owned by
		 * uid 0 of the container, not by the overflow uid. */
		expect(&r, "maps", &rec);
		if (setresuid(0, 0, 0) < 0)
			die("setresuid 0 in the new user namespace");
		if (unshare((int)c->late_flags) < 0)
			die("unshare namespaces in the new user namespace");
		if (setresgid(0, 0, 0) < 0)
			die("setresgid 0 in the new user namespace");
	}

	int fifo = c->fifo_fd;
	const char *state = ""; /* from `resume`: stdin of both kinds of hooks */
	if (!p->exec_mode) {
		int rootfd = rootfs_prepare(p);
		rootfs_apply_ops(p, rootfd);
		if (p->hookpause) {
			if (send_record(c->chan[1], "hooks", (char *)NULL) < 0)
				_exit(1);
			expect(&r, "resume", &rec);
			if (rec.n != 2)
				die_msg("protocol: resume needs the state");
			state = rec.f[1];
		}
		char *err;
		if (hooks_run(&p->hooks_create, state, &err) < 0)
			die_msg("%s", err);
		rootfs_enter(p, rootfd);
		close(rootfd);
		rootfs_finish(p);
	}

	if (p->hostname && sethostname(p->hostname, strlen(p->hostname)) < 0)
		die("sethostname %s", p->hostname);
	if (p->domainname && setdomainname(p->domainname, strlen(p->domainname)) < 0)
		die("setdomainname %s", p->domainname);
	if (c->console_fd >= 0)
		console_setup(p, c->console_fd);
	else if (!p->exec_mode && setsid() < 0)
		die("setsid");

	/* cwd first as root (it may be reachable only so), again after the switch if that
	 * failed (a root-squashed mount may be reachable only as the user). */
	int cwd_done = !p->cwd || chdir(p->cwd) == 0;
	set_rlimits(p);
	if (p->has_seccomp && !p->nonewprivs)
		seccomp_install();
	caps_and_user(p);
	if (!cwd_done && chdir(p->cwd) < 0)
		die("chdir %s", p->cwd);
	umask(p->has_umask ? p->umask : 022);

	struct exec_target t;
	exec_resolve(p, &t);
	if (p->nonewprivs) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			die("prctl no_new_privs");
		seccomp_install();
	}
	exec_cloexec_from(c->first_closed);

	if (!p->exec_mode) {
		if (send_record(c->chan[1], "ready", (char *)NULL) < 0)
			_exit(1);
		/* From here nobody listens for errors: the helper may have exited. */
		g_report_fd = -1;
		if (fifo >= 0) {
			char b;
			ssize_t n;
			do
				n = read(fifo, &b, 1);
			while (n < 0 && errno == EINTR);
			if (n != 1)
				_exit(127);
			close(fifo);
		}
		close(c->chan[1]);
		char *err;
		if (hooks_run(&p->hooks_start, state, &err) < 0)
			_exit(127);
	}
	exec_run(&t);
	if (!p->exec_mode)
		_exit(127);
	die("exec %s", t.path);
}

/* ---- the helper ------------------------------------------------------------------------- */

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

/* clone3's arguments (the kernel's struct clone_args, v2 with the cgroup field); declared here
 * because <linux/sched.h> clashes with glibc's <sched.h>. */
struct clone3_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
		set_tid_size, cgroup;
};
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* A cgroup2 directory the container process is cloned straight into (CLONE_INTO_CGROUP): a
 * cgroup.procs write would wait ~10 ms for the global lock's RCU grace period, a clone into the
 * cgroup does not. A new cgroup namespace is then made by the child itself (late_cgroupns): at
 * clone the kernel would root it at the parent's cgroup, before placing the child. -1: none (or
 * clone3 is missing and the pid was written instead). */
static int g_into_cgroup = -1;
static char *g_into_cgroup_procs;

static int is_cgroup2(const char *path)
{
	struct statfs s;
	return statfs(path, &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC;
}

/* The fallback when clone3 is missing: join by writing the pid, as for any other file. */
static void join_into_cgroup_by_write(void)
{
	char pid[24];
	int len = snprintf(pid, sizeof pid, "%d", (int)getpid());
	if (write_file(g_into_cgroup_procs, pid, (size_t)len) < 0)
		die("join cgroup %s", g_into_cgroup_procs);
	close(g_into_cgroup);
	g_into_cgroup = -1;
}

/* fork()-like clone, into g_into_cgroup when there is one. */
static long clone_process(unsigned long flags)
{
	if (g_into_cgroup >= 0) {
		struct clone3_args a;
		memset(&a, 0, sizeof a);
		a.flags = (flags & ~(unsigned long)CSIGNAL) | CLONE_INTO_CGROUP;
		/* With CLONE_PARENT the kernel gives the child our own exit signal and refuses another. */
		a.exit_signal = (flags & CLONE_PARENT) ? 0 : (flags & CSIGNAL);
		a.cgroup = (uint64_t)g_into_cgroup;
		long pid = syscall(SYS_clone3, &a, sizeof a);
		if (pid >= 0 || errno != ENOSYS)
			return pid;
		join_into_cgroup_by_write();
	}
	/* The raw syscall with no stack behaves like fork(): no new stack, no callback. */
	return syscall(SYS_clone, flags, 0, 0, 0, 0);
}

/* A v1 `tasks` file gets "0", the calling thread: the helper has one thread, so that moves the
 * whole process, and the kernel skips the global threadgroup lock whose RCU grace period makes
 * every cgroup.procs write of a cold burst wait 9-15 ms. Other files get the pid. */
static void join_cgroups(const struct plan *p)
{
	char pid[24];
	int len = snprintf(pid, sizeof pid, "%d", (int)getpid());
	for (int i = 0; i < p->cgroups.n; i++) {
		const char *path = p->cgroups.v[i].f[1];
		struct stat st;
		char *file = (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
				     ? xasprintf("%s/cgroup.procs", path)
				     : xstrdup(path);
		const char *base = strrchr(file, '/');
		int thread = base && strcmp(base + 1, "tasks") == 0;
		if (base && !thread && g_into_cgroup < 0 && is_cgroup2(file)) {
			char *dir = xstrdup(file);
			dir[base - file] = '\0';
			g_into_cgroup = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			free(dir);
			if (g_into_cgroup < 0)
				die("open cgroup %s", file);
			g_into_cgroup_procs = file;
			continue;
		}
		if (write_file(file, thread ? "0" : pid, thread ? 1 : (size_t)len) < 0)
			die("join cgroup %s", file);
		free(file);
	}
}

struct helper_state {
	pid_t pid;
	int chan_open;
	int ready;
	int awaiting_resume;
	int exited, status; /* foreground: reaped, and how it ended */
	struct reader chan_r;
};

static void announce_ready(struct ctx *c, struct helper_state *s)
{
	if (send_record(c->ctl, "ready", (char *)NULL) < 0)
		die("send ready");
	s->ready = 1;
	if (!c->plan.foreground)
		exit(0);
}

/* A child that vanished before `ready` without saying why. */
static __attribute__((noreturn)) void died_early(struct ctx *c, struct helper_state *s)
{
	if (c->plan.foreground && !s->exited && waitpid(s->pid, &s->status, 0) == s->pid)
		s->exited = 1;
	if (s->exited && WIFSIGNALED(s->status))
		die_msg("container process killed by signal %d during setup", WTERMSIG(s->status));
	if (s->exited)
		die_msg("container process exited with status %d during setup", exit_code(s->status));
	die_msg("container process exited during setup");
}

static void handle_chan(struct ctx *c, struct helper_state *s)
{
	struct record rec;
	int rc = try_read_record(&s->chan_r, &rec);
	if (rc <= 0) {
		close(c->chan[0]);
		s->chan_open = 0;
		if (s->ready)
			return;
		if (c->plan.exec_mode)
			announce_ready(c, s); /* EOF without error: execve succeeded */
		else
			died_early(c, s);
		return;
	}
	if (!strcmp(rec.f[0], "error")) {
		send_fields(c->ctl, rec.n, rec.f);
		if (c->plan.foreground && !s->exited)
			waitpid(s->pid, NULL, 0);
		exit(1);
	} else if (!strcmp(rec.f[0], "hooks")) {
		if (send_record(c->ctl, "hooks", (char *)NULL) < 0)
			die("send hooks");
		s->awaiting_resume = 1;
	} else if (!strcmp(rec.f[0], "ready")) {
		announce_ready(c, s);
	} else {
		die_msg("protocol: unexpected %s from the container process", rec.f[0]);
	}
}

static int chan_has_record(struct helper_state *s)
{
	return memchr(s->chan_r.buf, '\n', s->chan_r.len) != NULL;
}

static void handle_ctl(struct ctx *c, struct helper_state *s)
{
	struct record rec;
	if (!read_record(&c->ctl_r, &rec))
		die_msg("protocol: control socket closed while the container waits for resume");
	if (strcmp(rec.f[0], "resume") || rec.n != 2)
		die_msg("protocol: expected resume, got %s", rec.f[0]);
	if (send_fields(c->chan[0], rec.n, rec.f) < 0)
		die("relay resume");
	s->awaiting_resume = 0;
}

static __attribute__((noreturn)) void child_exited(struct ctx *c, struct helper_state *s, int status)
{
	s->exited = 1;
	s->status = status;
	/* Its end of the channel closed when it exited: read what it said first (EOF is sure). */
	while (s->chan_open)
		handle_chan(c, s);
	if (!s->ready)
		died_early(c, s);
	char code[16];
	snprintf(code, sizeof code, "%d", exit_code(status));
	send_record(c->ctl, "exit", code, (char *)NULL);
	exit(exit_code(status));
}

static __attribute__((noreturn)) void helper_loop(struct ctx *c, pid_t pid)
{
	struct helper_state s = { .pid = pid, .chan_open = 1 };
	reader_init(&s.chan_r, c->chan[0]);
	for (;;) {
		while (s.chan_open && chan_has_record(&s))
			handle_chan(c, &s);
		struct pollfd fds[3];
		int n = 0, ichan = -1, ictl = -1, isig = -1;
		if (s.chan_open) {
			ichan = n;
			fds[n++] = (struct pollfd){ .fd = c->chan[0], .events = POLLIN };
		}
		if (s.awaiting_resume) {
			ictl = n;
			fds[n++] = (struct pollfd){ .fd = c->ctl, .events = POLLIN };
		}
		if (c->sigfd >= 0) {
			isig = n;
			fds[n++] = (struct pollfd){ .fd = c->sigfd, .events = POLLIN };
		}
		if (n == 0)
			die_msg("internal: nothing to wait for");
		if (poll(fds, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (ichan >= 0 && fds[ichan].revents)
			handle_chan(c, &s);
		if (ictl >= 0 && fds[ictl].revents && s.awaiting_resume)
			handle_ctl(c, &s);
		if (isig >= 0 && fds[isig].revents) {
			struct signalfd_siginfo si;
			if (read(c->sigfd, &si, sizeof si) != sizeof si)
				continue;
			if (si.ssi_signo != SIGCHLD) {
				kill(pid, (int)si.ssi_signo);
				continue;
			}
			int status;
			if (waitpid(pid, &status, WNOHANG) == pid)
				child_exited(c, &s, status);
		}
	}
}

static int helper_main(struct ctx *c)
{
	struct plan *p = &c->plan;
	signal(SIGPIPE, SIG_IGN); /* a vanished caller is an EPIPE to handle, not a death */

	if (p->has_oom) {
		char buf[24];
		int len = snprintf(buf, sizeof buf, "%ld", p->oom);
		if (write_file("/proc/self/oom_score_adj", buf, (size_t)len) < 0)
			die("write oom_score_adj %ld", p->oom);
	}
	join_cgroups(p);
	caps_read_last();
	/* Host paths first: the console socket, then namespaces (setns mnt changes paths). */
	c->console_fd = console_connect(p);
	/* The exec fifo is opened here, as host root: a user namespace's root may not reach the
	 * state directory. O_RDWR: opening does not wait for a writer; the inherited fd stays
	 * usable after pivot_root hides the path. */
	c->fifo_fd = -1;
	if (!p->exec_mode && p->execfifo) {
		/* Made here rather than by the caller: a Node caller would have to spawn mkfifo(1). */
		if (mkfifo(p->execfifo, 0600) < 0 && errno != EEXIST)
			die("mkfifo exec fifo %s", p->execfifo);
		if ((c->fifo_fd = open(p->execfifo, O_RDWR | O_CLOEXEC)) < 0)
			die("open exec fifo %s", p->execfifo);
	}
	seccomp_prepare(p);
	ns_join(p);
	ns_unshare_time(p);

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c->chan) < 0)
		die("socketpair");

	sigset_t mask;
	sigemptyset(&mask);
	c->sigfd = -1;
	if (p->foreground) {
		for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
			sigaddset(&mask, forwarded[i]);
		sigaddset(&mask, SIGCHLD);
	}
	if (sigprocmask(SIG_BLOCK, &mask, &c->oldmask) < 0)
		die("sigprocmask");
	if (p->foreground && (c->sigfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0)
		die("signalfd");

	unsigned long flags = ns_clone_flags(p);
	if (flags & CLONE_NEWUSER) {
		/* pid must be new at clone (unshare would only affect later children). */
		c->late_flags = flags & ~(unsigned long)(CLONE_NEWUSER | CLONE_NEWPID);
		flags &= CLONE_NEWUSER | CLONE_NEWPID;
	}
	if (g_into_cgroup >= 0 && (flags & CLONE_NEWCGROUP)) {
		flags &= ~(unsigned long)CLONE_NEWCGROUP;
		c->late_cgroupns = 1;
	}
	flags |= SIGCHLD;
	if (!p->foreground)
		flags |= CLONE_PARENT; /* the caller reaps the container process */
	long pid = clone_process(flags);
	if (pid < 0)
		die("clone");
	if (pid == 0)
		container_main(c);

	g_kill_on_error = (pid_t)pid;
	close(c->chan[1]);
	if (c->console_fd >= 0)
		close(c->console_fd);
	if (c->fifo_fd >= 0)
		close(c->fifo_fd);

	char pidstr[24];
	snprintf(pidstr, sizeof pidstr, "%ld", pid);
	if (send_record(c->ctl, "pid", pidstr, (char *)NULL) < 0)
		die("send pid");
	if (flags & CLONE_NEWUSER) {
		ns_write_maps(p, (pid_t)pid);
		if (send_record(c->chan[0], "maps", (char *)NULL) < 0)
			die("signal the container process after the id maps");
	}
	helper_loop(c, (pid_t)pid);
}

int main(void)
{
	const char *env = getenv("BERTH_INIT_FD");
	char *end;
	long fd = env ? strtol(env, &end, 10) : -1;
	if (!env || *end || fd < 3 || fcntl((int)fd, F_GETFD) < 0) {
		fprintf(stderr, "berth-runc-init: BERTH_INIT_FD must name the control socket "
				"(this program is run by berth-runc)\n");
		return 2;
	}
	static struct ctx c;
	c.ctl = (int)fd;
	g_report_fd = c.ctl;
	if (fcntl(c.ctl, F_SETFD, FD_CLOEXEC) < 0)
		die("control fd");
	reader_init(&c.ctl_r, c.ctl);
	plan_read(&c.ctl_r, &c.plan);

	/* Fds 3 .. 3+N-1 are the program's; the control fd sits right after them. */
	int n = c.plan.preservefds >= 0 ? c.plan.preservefds : c.ctl - 3;
	if (3 + n > c.ctl)
		die_msg("plan: preservefds %d overlaps the control fd %d", n, c.ctl);
	c.first_closed = 3 + n;
	return helper_main(&c);
}
