/* The seccomp filter, built with libseccomp from the plan's seccomp-* records. */
#ifndef BERTH_SECCOMP_H
#define BERTH_SECCOMP_H

#include "plan.h"

/* Builds the filter (so plan mistakes surface before any privilege is dropped). */
void seccomp_prepare(const struct plan *p);
/* Loads the prepared filter. Never sets no_new_privs: without `nonewprivs` it needs
 * CAP_SYS_ADMIN, so it is loaded before the capability drop. */
void seccomp_install(void);

#endif
