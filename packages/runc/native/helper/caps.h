/* Capabilities and the user switch, in the one order that works: drop from the bounding set
 * while still privileged, keep permitted caps across setresuid, then capset, then ambient. */
#ifndef BERTH_CAPS_H
#define BERTH_CAPS_H

#include "plan.h"

/* The highest capability the running kernel knows (read before entering the container, whose
 * /proc may be masked). */
extern int g_cap_last;
void caps_read_last(void);

/* Applies `caps` (if any) around the `user`/`groups` switch. */
void caps_and_user(const struct plan *p);

#endif
