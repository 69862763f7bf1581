/* Capability sets and the uid/gid switch. capset goes through the raw syscall (v3, two 32-bit
 * words per set) to avoid a libcap dependency for three calls. */
#define _GNU_SOURCE
#include "caps.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int g_cap_last = 40; /* CAP_CHECKPOINT_RESTORE, if /proc says nothing */

void caps_read_last(void)
{
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	char buf[16];
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		int v = atoi(buf);
		if (v > 0 && v < 64)
			g_cap_last = v;
	}
}

static void drop_bounding(uint64_t keep)
{
	for (int c = 0; c <= g_cap_last; c++) {
		if (keep & (1ULL << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			die("drop capability %d from the bounding set", c);
	}
}

static void set_caps(const struct plan *p)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	for (int i = 0; i < 2; i++) {
		data[i].effective = (uint32_t)(p->cap_effective >> (32 * i));
		data[i].permitted = (uint32_t)(p->cap_permitted >> (32 * i));
		data[i].inheritable = (uint32_t)(p->cap_inheritable >> (32 * i));
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		die("capset");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		die("clear ambient capabilities");
	/* The kernel refuses an ambient cap that is not both permitted and inheritable. runc
	 * only warns then (runc spec's default config asks for exactly that), so skip them. */
	uint64_t ambient = p->cap_ambient & p->cap_permitted & p->cap_inheritable;
	for (int c = 0; c <= g_cap_last; c++) {
		if (!(ambient & (1ULL << c)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
			die("raise ambient capability %d", c);
	}
}

void caps_and_user(const struct plan *p)
{
	if (p->has_caps) {
		drop_bounding(p->cap_bounding);
		/* Without keepcaps, setresuid from 0 to non-zero empties the permitted set. */
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			die("prctl keepcaps");
	}
	if (p->has_user) {
		/* Absent or empty `groups`: no supplementary groups. EPERM is tolerated only when
		 * there is nothing to set (a user namespace with setgroups denied). */
		if (setgroups((size_t)p->ngroups, p->groups) < 0 && !(errno == EPERM && p->ngroups == 0))
			die("setgroups");
		if (setresgid(p->gid, p->gid, p->gid) < 0)
			die("setresgid %u", (unsigned)p->gid);
		if (setresuid(p->uid, p->uid, p->uid) < 0)
			die("setresuid %u", (unsigned)p->uid);
	}
	if (p->has_caps) {
		if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
			die("prctl keepcaps");
		set_caps(p);
	}
}
