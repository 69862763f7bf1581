/* seccomp through libseccomp. Rules name syscalls; a name this libseccomp or architecture does
 * not know is skipped (profiles list syscalls of newer kernels). */
#define _GNU_SOURCE
#include "seccomp.h"
#include "util.h"

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>

static scmp_filter_ctx g_ctx;

static uint32_t parse_action(const char *name, const char *errno_field, const char *what)
{
	uint32_t err = (uint32_t)parse_u64(errno_field, 10, what);
	if (!strcmp(name, "SCMP_ACT_KILL") || !strcmp(name, "SCMP_ACT_KILL_THREAD"))
		return SCMP_ACT_KILL_THREAD;
	if (!strcmp(name, "SCMP_ACT_KILL_PROCESS"))
		return SCMP_ACT_KILL_PROCESS;
	if (!strcmp(name, "SCMP_ACT_TRAP"))
		return SCMP_ACT_TRAP;
	if (!strcmp(name, "SCMP_ACT_ERRNO"))
		return SCMP_ACT_ERRNO(err);
	if (!strcmp(name, "SCMP_ACT_TRACE"))
		return SCMP_ACT_TRACE(err);
	if (!strcmp(name, "SCMP_ACT_ALLOW"))
		return SCMP_ACT_ALLOW;
	if (!strcmp(name, "SCMP_ACT_LOG"))
		return SCMP_ACT_LOG;
	die_msg("plan: %s: unknown seccomp action %s", what, name);
}

static enum scmp_compare parse_op(const char *op, const char *syscall_name)
{
	static const struct {
		const char *name;
		enum scmp_compare op;
	} ops[] = {
		{ "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
		{ "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
		{ "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
		{ "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
	};
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (!strcmp(ops[i].name, op))
			return ops[i].op;
	die_msg("plan: seccomp-rule %s: unknown operator %s", syscall_name, op);
}

static void add_rule(const struct record *r, uint32_t default_action)
{
	const char *name = r->f[3];
	uint32_t action = parse_action(r->f[1], r->f[2], "seccomp-rule");
	/* libseccomp refuses a rule whose action is the default one; it would change nothing. */
	if (action == default_action)
		return;
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return;

	int nconds = (r->n - 4) / 4;
	struct scmp_arg_cmp conds[6 * 4];
	if (nconds > (int)(sizeof conds / sizeof conds[0]))
		die_msg("plan: seccomp-rule %s: too many conditions", name);
	int repeated = 0;
	for (int i = 0; i < nconds; i++) {
		char *const *c = &r->f[4 + 4 * i];
		unsigned idx = (unsigned)parse_u64(c[0], 10, "seccomp-rule index");
		if (idx > 5)
			die_msg("plan: seccomp-rule %s: argument index %u", name, idx);
		conds[i] = (struct scmp_arg_cmp){
			.arg = idx,
			.op = parse_op(c[1], name),
			.datum_a = parse_u64(c[2], 10, "seccomp-rule value"),
			.datum_b = parse_u64(c[3], 10, "seccomp-rule valueTwo"),
		};
		for (int j = 0; j < i; j++)
			if (conds[j].arg == idx)
				repeated = 1;
	}
	int rc;
	if (!repeated) {
		rc = seccomp_rule_add_array(g_ctx, action, nr, (unsigned)nconds, conds);
	} else {
		/* libseccomp cannot AND two comparisons of one argument; as runc does, such a rule
		 * becomes one rule per condition (any of them matching). */
		rc = 0;
		for (int i = 0; i < nconds && rc == 0; i++)
			rc = seccomp_rule_add_array(g_ctx, action, nr, 1, &conds[i]);
	}
	if (rc < 0) {
		errno = -rc;
		die("seccomp rule %s", name);
	}
}

void seccomp_prepare(const struct plan *p)
{
	if (!p->has_seccomp)
		return;
	char errno_field[16];
	snprintf(errno_field, sizeof errno_field, "%u", p->seccomp_errno);
	uint32_t def = parse_action(p->seccomp_action, errno_field, "seccomp-default");
	g_ctx = seccomp_init(def);
	if (!g_ctx)
		die_msg("seccomp_init failed");
	int rc = seccomp_attr_set(g_ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (rc < 0) {
		errno = -rc;
		die("seccomp: clear no_new_privs attribute");
	}
	for (int i = 0; i < p->seccomp_archs.n; i++) {
		const char *name = p->seccomp_archs.v[i].f[1];
		uint32_t arch = seccomp_arch_resolve_name(name);
		if (arch == 0)
			die_msg("plan: unknown seccomp architecture %s", name);
		rc = seccomp_arch_add(g_ctx, arch);
		if (rc < 0 && rc != -EEXIST) {
			errno = -rc;
			die("seccomp: add architecture %s", name);
		}
	}
	for (int i = 0; i < p->seccomp_flags.n; i++) {
		const char *name = p->seccomp_flags.v[i].f[1];
		enum scmp_filter_attr attr;
		if (!strcmp(name, "SECCOMP_FILTER_FLAG_LOG"))
			attr = SCMP_FLTATR_CTL_LOG;
		else if (!strcmp(name, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
			attr = SCMP_FLTATR_CTL_SSB;
		else
			die_msg("plan: unknown seccomp flag %s", name);
		rc = seccomp_attr_set(g_ctx, attr, 1);
		if (rc < 0) {
			errno = -rc;
			die("seccomp: flag %s", name);
		}
	}
	for (int i = 0; i < p->seccomp_rules.n; i++)
		add_rule(&p->seccomp_rules.v[i], def);
}

void seccomp_install(void)
{
	if (!g_ctx)
		return;
	int rc = seccomp_load(g_ctx);
	if (rc < 0) {
		errno = -rc;
		die("seccomp: load filter");
	}
	seccomp_release(g_ctx);
	g_ctx = NULL;
}
