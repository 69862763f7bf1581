// SCM_RIGHTS fd passing without N-API, so console.cc can call it from a worker thread.
#pragma once

#include <sys/types.h>

namespace berth {

// Receives one message on a unix socket: up to `cap` bytes into `buf` (length in *len) and
// the one fd that came with it (*fd, O_CLOEXEC; -1 if none). Returns 0 or a positive errno;
// EPROTO if the message carried more than one fd or its control data was truncated (any fds
// received are closed then).
int RecvFdRaw(int sock, char* buf, size_t cap, ssize_t* len, int* fd);

}  // namespace berth
