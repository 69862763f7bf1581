/* The plan: the decoded records of PROTOCOL.md, grouped by what executes them. Every decision
 * was made by the TypeScript side; nothing here chooses a default beyond the documented ones. */
#ifndef BERTH_PLAN_H
#define BERTH_PLAN_H

#include <stdint.h>
#include <sys/types.h>
#include "proto.h"

struct reclist {
	struct record *v;
	int n, cap;
};

struct plan {
	int exec_mode;
	int foreground;
	int has_oom;
	long oom;
	int preservefds; /* -1: derived from the control fd */

	struct reclist cgroups, setns, unshare, uidmap, gidmap;

	const char *rootfs, *parentmount;
	int has_rootprop;
	unsigned long rootprop;
	struct reclist rootfs_ops; /* ordered: mount remount mknod binddev symlink */
	int pivot;
	struct reclist sysctls, masked, readonly;
	int rootreadonly;

	const char *hostname, *domainname;
	const char *console;
	int has_consolesize;
	unsigned short rows, cols;
	const char *cwd;
	struct reclist env, args;

	int has_user;
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t *groups;
	int has_umask;
	mode_t umask;
	struct reclist rlimits;
	int has_caps;
	uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;
	int nonewprivs;

	int has_seccomp;
	const char *seccomp_action;
	uint32_t seccomp_errno;
	struct reclist seccomp_archs, seccomp_flags, seccomp_rules;

	const char *execfifo;
	int hookpause;
	struct reclist hooks_create, hooks_start;
};

/* Reads records up to `end` from the reader; protocol or plan errors die(). */
void plan_read(struct reader *r, struct plan *p);

/* True when the plan creates (or joins) a namespace of this type. */
int plan_unshares(const struct plan *p, const char *type);

#endif
