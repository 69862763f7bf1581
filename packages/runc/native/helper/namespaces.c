/* Namespace joining and creation. */
#define _GNU_SOURCE
#include "namespaces.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

struct ns_type {
	const char *name;
	int flag;
};

/* Join order: user first (it grants the capabilities to join the others), mnt last (it
 * changes what every later path means). */
static const struct ns_type types[] = {
	{ "user", CLONE_NEWUSER }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
	{ "net", CLONE_NEWNET },   { "pid", CLONE_NEWPID }, { "cgroup", CLONE_NEWCGROUP },
	{ "time", CLONE_NEWTIME }, { "mnt", CLONE_NEWNS },
};
#define NTYPES (sizeof types / sizeof types[0])

static int type_flag(const char *name)
{
	for (size_t i = 0; i < NTYPES; i++)
		if (!strcmp(types[i].name, name))
			return types[i].flag;
	die_msg("plan: unknown namespace type %s", name);
}

void ns_join(const struct plan *p)
{
	int *fds = xmalloc(sizeof(int) * (size_t)(p->setns.n + 1));
	for (int i = 0; i < p->setns.n; i++) {
		const struct record *r = &p->setns.v[i];
		fds[i] = open(r->f[2], O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			die("setns %s: open %s", r->f[1], r->f[2]);
	}
	for (size_t t = 0; t < NTYPES; t++) {
		for (int i = 0; i < p->setns.n; i++) {
			const struct record *r = &p->setns.v[i];
			if (strcmp(r->f[1], types[t].name))
				continue;
			if (setns(fds[i], types[t].flag) < 0)
				die("setns %s %s", r->f[1], r->f[2]);
			close(fds[i]);
		}
	}
	free(fds);
}

unsigned long ns_clone_flags(const struct plan *p)
{
	unsigned long flags = 0;
	for (int i = 0; i < p->unshare.n; i++) {
		int f = type_flag(p->unshare.v[i].f[1]);
		if (f != CLONE_NEWTIME)
			flags |= (unsigned long)f;
	}
	return flags;
}

void ns_unshare_time(const struct plan *p)
{
	/* unshare(CLONE_NEWTIME) affects only children: the clone that follows. */
	if (plan_unshares(p, "time") && unshare(CLONE_NEWTIME) < 0)
		die("unshare time namespace");
}

static void write_map(pid_t pid, const char *file, const struct reclist *l)
{
	if (l->n == 0)
		return;
	size_t cap = (size_t)l->n * 64 + 1, len = 0;
	char *buf = xmalloc(cap);
	for (int i = 0; i < l->n; i++) {
		const struct record *r = &l->v[i];
		len += (size_t)snprintf(buf + len, cap - len, "%s %s %s\n", r->f[1], r->f[2], r->f[3]);
	}
	char *path = xasprintf("/proc/%d/%s", (int)pid, file);
	/* The kernel accepts a map in exactly one write. */
	if (write_file(path, buf, len) < 0)
		die("write %s", path);
	free(path);
	free(buf);
}

void ns_write_maps(const struct plan *p, pid_t pid)
{
	write_map(pid, "uid_map", &p->uidmap);
	write_map(pid, "gid_map", &p->gidmap);
}
