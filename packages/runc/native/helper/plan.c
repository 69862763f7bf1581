/* Plan parsing: checks each record's shape (name and field count) as it arrives, so a
 * malformed plan fails in the helper, before any process exists. Numbers are checked here
 * too where the value is kept; records executed later keep their fields. */
#define _GNU_SOURCE
#include "plan.h"
#include "util.h"

#include <string.h>

static void push(struct reclist *l, const struct record *r)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, sizeof(*l->v) * (size_t)l->cap);
	}
	l->v[l->n++] = *r;
}

/* Field counts include the record name. max -1: unbounded. */
struct shape {
	const char *name;
	int min, max;
};

static const struct shape shapes[] = {
	{ "mode", 2, 2 },	   { "foreground", 2, 2 },    { "oom", 2, 2 },
	{ "preservefds", 2, 2 },   { "cgroup", 2, 2 },	      { "setns", 3, 3 },
	{ "unshare", 2, 2 },	   { "uidmap", 4, 4 },	      { "gidmap", 4, 4 },
	{ "rootfs", 2, 2 },	   { "rootpropagation", 2, 2 }, { "parentmount", 2, 2 },
	{ "mount", 7, 7 },	   { "remount", 3, 3 },	      { "mknod", 8, 8 },
	{ "binddev", 3, 3 },	   { "symlink", 3, 3 },	      { "pivot", 2, 2 },
	{ "sysctl", 3, 3 },	   { "masked", 2, 2 },	      { "readonly", 2, 2 },
	{ "rootreadonly", 1, 1 },  { "hostname", 2, 2 },      { "domainname", 2, 2 },
	{ "console", 2, 2 },	   { "consolesize", 3, 3 },   { "cwd", 2, 2 },
	{ "env", 2, 2 },	   { "arg", 2, 2 },	      { "user", 3, 3 },
	{ "groups", 1, -1 },	   { "umask", 2, 2 },	      { "rlimit", 4, 4 },
	{ "caps", 6, 6 },	   { "nonewprivs", 1, 1 },    { "seccomp-default", 3, 3 },
	{ "seccomp-arch", 2, 2 },  { "seccomp-flag", 2, 2 },  { "seccomp-rule", 4, -1 },
	{ "execfifo", 2, 2 },	   { "hookpause", 1, 1 },     { "hook", 6, -1 },
};

static const char *const ns_types[] = { "user", "ipc", "uts", "net", "pid", "mnt", "cgroup", "time", NULL };

static void check_ns_type(const char *t)
{
	for (int i = 0; ns_types[i]; i++)
		if (!strcmp(ns_types[i], t))
			return;
	die_msg("plan: unknown namespace type %s", t);
}

static void check_shape(const struct record *r)
{
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		if (strcmp(shapes[i].name, r->f[0]))
			continue;
		if (r->n < shapes[i].min || (shapes[i].max >= 0 && r->n > shapes[i].max))
			die_msg("plan: record %s has %d fields", r->f[0], r->n - 1);
		return;
	}
	die_msg("plan: unknown record %s", r->f[0]);
}

static int is(const struct record *r, const char *name)
{
	return !strcmp(r->f[0], name);
}

static void add_hook(struct plan *p, const struct record *r)
{
	parse_u64(r->f[2], 10, "hook timeout");
	uint64_t argc = parse_u64(r->f[4], 10, "hook argc");
	if (argc < 1 || argc > (uint64_t)(r->n - 5))
		die_msg("plan: hook %s has argc %s but %d fields follow", r->f[3], r->f[4], r->n - 5);
	if (!strcmp(r->f[1], "createContainer"))
		push(&p->hooks_create, r);
	else if (!strcmp(r->f[1], "startContainer"))
		push(&p->hooks_start, r);
	else
		die_msg("plan: unknown hook kind %s", r->f[1]);
}

static void handle(struct plan *p, const struct record *r)
{
	const char *v = r->n > 1 ? r->f[1] : NULL;
	if (is(r, "mode")) {
		if (strcmp(v, "create") && strcmp(v, "exec"))
			die_msg("plan: unknown mode %s", v);
		p->exec_mode = !strcmp(v, "exec");
	} else if (is(r, "foreground")) {
		p->foreground = (int)parse_u64(v, 10, "foreground");
	} else if (is(r, "oom")) {
		p->has_oom = 1;
		p->oom = (long)parse_i64(v, "oom");
	} else if (is(r, "preservefds")) {
		p->preservefds = (int)parse_u64(v, 10, "preservefds");
	} else if (is(r, "cgroup")) {
		push(&p->cgroups, r);
	} else if (is(r, "setns")) {
		check_ns_type(v);
		push(&p->setns, r);
	} else if (is(r, "unshare")) {
		check_ns_type(v);
		push(&p->unshare, r);
	} else if (is(r, "uidmap") || is(r, "gidmap")) {
		for (int i = 1; i < 4; i++)
			parse_u64(r->f[i], 10, r->f[0]);
		push(is(r, "uidmap") ? &p->uidmap : &p->gidmap, r);
	} else if (is(r, "rootfs")) {
		p->rootfs = v;
	} else if (is(r, "rootpropagation")) {
		p->has_rootprop = 1;
		p->rootprop = parse_u64(v, 10, "rootpropagation");
	} else if (is(r, "parentmount")) {
		p->parentmount = v;
	} else if (is(r, "mount") || is(r, "remount") || is(r, "mknod") || is(r, "binddev") ||
		   is(r, "symlink")) {
		push(&p->rootfs_ops, r);
	} else if (is(r, "pivot")) {
		p->pivot = (int)parse_u64(v, 10, "pivot");
	} else if (is(r, "sysctl")) {
		push(&p->sysctls, r);
	} else if (is(r, "masked")) {
		push(&p->masked, r);
	} else if (is(r, "readonly")) {
		push(&p->readonly, r);
	} else if (is(r, "rootreadonly")) {
		p->rootreadonly = 1;
	} else if (is(r, "hostname")) {
		p->hostname = v;
	} else if (is(r, "domainname")) {
		p->domainname = v;
	} else if (is(r, "console")) {
		p->console = v;
	} else if (is(r, "consolesize")) {
		p->has_consolesize = 1;
		p->rows = (unsigned short)parse_u64(r->f[1], 10, "consolesize");
		p->cols = (unsigned short)parse_u64(r->f[2], 10, "consolesize");
	} else if (is(r, "cwd")) {
		p->cwd = v;
	} else if (is(r, "env")) {
		push(&p->env, r);
	} else if (is(r, "arg")) {
		push(&p->args, r);
	} else if (is(r, "user")) {
		p->has_user = 1;
		p->uid = (uid_t)parse_u64(r->f[1], 10, "user");
		p->gid = (gid_t)parse_u64(r->f[2], 10, "user");
	} else if (is(r, "groups")) {
		p->ngroups = r->n - 1;
		p->groups = xmalloc(sizeof(gid_t) * (size_t)p->ngroups);
		for (int i = 0; i < p->ngroups; i++)
			p->groups[i] = (gid_t)parse_u64(r->f[i + 1], 10, "groups");
	} else if (is(r, "umask")) {
		p->has_umask = 1;
		p->umask = (mode_t)parse_u64(v, 8, "umask");
	} else if (is(r, "rlimit")) {
		parse_u64(r->f[1], 10, "rlimit resource");
		push(&p->rlimits, r);
	} else if (is(r, "caps")) {
		p->has_caps = 1;
		p->cap_bounding = parse_u64(r->f[1], 16, "caps");
		p->cap_effective = parse_u64(r->f[2], 16, "caps");
		p->cap_permitted = parse_u64(r->f[3], 16, "caps");
		p->cap_inheritable = parse_u64(r->f[4], 16, "caps");
		p->cap_ambient = parse_u64(r->f[5], 16, "caps");
	} else if (is(r, "nonewprivs")) {
		p->nonewprivs = 1;
	} else if (is(r, "seccomp-default")) {
		p->has_seccomp = 1;
		p->seccomp_action = r->f[1];
		p->seccomp_errno = (uint32_t)parse_u64(r->f[2], 10, "seccomp-default errno");
	} else if (is(r, "seccomp-arch")) {
		push(&p->seccomp_archs, r);
	} else if (is(r, "seccomp-flag")) {
		push(&p->seccomp_flags, r);
	} else if (is(r, "seccomp-rule")) {
		if ((r->n - 4) % 4)
			die_msg("plan: seccomp-rule %s: conditions must have 4 fields", r->f[3]);
		push(&p->seccomp_rules, r);
	} else if (is(r, "execfifo")) {
		p->execfifo = v;
	} else if (is(r, "hookpause")) {
		p->hookpause = 1;
	} else if (is(r, "hook")) {
		add_hook(p, r);
	}
}

void plan_read(struct reader *r, struct plan *p)
{
	memset(p, 0, sizeof *p);
	p->pivot = 1;
	p->preservefds = -1;

	struct record rec;
	if (!read_record(r, &rec))
		die_msg("protocol: no plan (EOF)");
	if (strcmp(rec.f[0], "berth-init") || rec.n != 2)
		die_msg("protocol: expected berth-init, got %s", rec.f[0]);
	if (strcmp(rec.f[1], "1"))
		die_msg("protocol: unsupported version %s", rec.f[1]);
	for (;;) {
		if (!read_record(r, &rec))
			die_msg("protocol: plan ended without end");
		if (!strcmp(rec.f[0], "end"))
			break;
		check_shape(&rec);
		handle(p, &rec);
	}
	if (p->args.n == 0)
		die_msg("plan: no arg");
	if (!p->exec_mode && !p->rootfs)
		die_msg("plan: create mode without rootfs");
}

int plan_unshares(const struct plan *p, const char *type)
{
	for (int i = 0; i < p->unshare.n; i++)
		if (!strcmp(p->unshare.v[i].f[1], type))
			return 1;
	return 0;
}
