/* Namespaces: joining existing ones (setns), the clone flags for new ones, user ns id maps. */
#ifndef BERTH_NAMESPACES_H
#define BERTH_NAMESPACES_H

#include "plan.h"

/* Opens every `setns` path first (a later setns(mnt) or setns(user) would change what the
 * paths mean), then joins user first and mnt last. */
void ns_join(const struct plan *p);
/* The CLONE_NEW* flags of the `unshare` records, except time: clone() cannot take
 * CLONE_NEWTIME (0x80 is in its exit-signal byte), so ns_unshare_time() does it beforehand. */
unsigned long ns_clone_flags(const struct plan *p);
void ns_unshare_time(const struct plan *p);
/* Writes the uid and gid maps of a child in a new user namespace. */
void ns_write_maps(const struct plan *p, pid_t pid);

#endif
