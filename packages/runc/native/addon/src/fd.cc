// File descriptors Node cannot make or move: real pipes (libuv's 'pipe' is a socketpair, which
// a container cannot reopen as /dev/stdout), raw socketpairs, and SCM_RIGHTS fd passing.
// Every fd created here is O_CLOEXEC and blocking; the caller clears close-on-exec on the fds
// it means to hand to a child.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>

#include "common.h"
#include "fdpass.h"

namespace berth {

namespace {

// Room for a few fds, so a sender passing more than one is detected rather than truncated.
constexpr int kMaxFds = 4;
constexpr size_t kMaxData = 4096;

Napi::Value FdPair(Napi::Env env, int fds[2]) {
  Napi::Array a = Napi::Array::New(env, 2);
  a.Set(0u, Napi::Number::New(env, fds[0]));
  a.Set(1u, Napi::Number::New(env, fds[1]));
  return a;
}

// pipe(): [readFd, writeFd]
Napi::Value Pipe(const Napi::CallbackInfo& info) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) ThrowErrno(info.Env(), "pipe2");
  return FdPair(info.Env(), fds);
}

// socketpair(): a connected AF_UNIX SOCK_STREAM pair, for fd passing and tests.
Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) {
    ThrowErrno(info.Env(), "socketpair");
  }
  return FdPair(info.Env(), fds);
}

// setCloexec(fd, on)
Napi::Value SetCloexec(const Napi::CallbackInfo& info) {
  int fd = ArgInt(info, 0, "fd", 0);
  bool on = ArgBool(info, 1, "on");
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0) ThrowErrno(info.Env(), "fcntl");
  flags = on ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC);
  if (fcntl(fd, F_SETFD, flags) < 0) ThrowErrno(info.Env(), "fcntl");
  return info.Env().Undefined();
}

// setPipeSize(fd, bytes): the size the kernel chose (rounded up to a power-of-two pages).
// Without CAP_SYS_RESOURCE, sizes above /proc/sys/fs/pipe-max-size fail with EPERM.
Napi::Value SetPipeSize(const Napi::CallbackInfo& info) {
  int fd = ArgInt(info, 0, "fd", 0);
  int bytes = ArgInt(info, 1, "bytes", 1);
  int r = fcntl(fd, F_SETPIPE_SZ, bytes);
  if (r < 0) ThrowErrno(info.Env(), "fcntl");
  return Napi::Number::New(info.Env(), r);
}

// getPipeSize(fd)
Napi::Value GetPipeSize(const Napi::CallbackInfo& info) {
  int fd = ArgInt(info, 0, "fd", 0);
  int r = fcntl(fd, F_GETPIPE_SZ);
  if (r < 0) ThrowErrno(info.Env(), "fcntl");
  return Napi::Number::New(info.Env(), r);
}

// sendFd(socketFd, fd, data): one sendmsg carrying `data` (at least one byte: a stream
// socket cannot carry ancillary data alone) and the fd.
Napi::Value SendFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sock = ArgInt(info, 0, "socketFd", 0);
  int fd = ArgInt(info, 1, "fd", 0);
  if (info.Length() < 3 || !info[2].IsBuffer()) throw Napi::TypeError::New(env, "data must be a Buffer");
  Napi::Buffer<char> data = info[2].As<Napi::Buffer<char>>();
  if (data.Length() == 0) throw Napi::RangeError::New(env, "data must hold at least one byte");

  struct iovec iov = {data.Data(), data.Length()};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } ctl;
  memset(&ctl, 0, sizeof(ctl));
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl.buf;
  msg.msg_controllen = sizeof(ctl.buf);
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));

  ssize_t n;
  do n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) ThrowErrno(env, "sendmsg");
  // A stream socket may take part of the data; the fd went with the first byte, send the rest.
  size_t sent = static_cast<size_t>(n);
  while (sent < data.Length()) {
    do n = send(sock, data.Data() + sent, data.Length() - sent, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) ThrowErrno(env, "send");
    sent += static_cast<size_t>(n);
  }
  return env.Undefined();
}

// recvFd(socketFd): { fd, data } | null. null means end of stream; fd is null for a message
// that carried no fd. A non-blocking socket with nothing pending throws EAGAIN, as
// fs.readSync does.
Napi::Value RecvFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int sock = ArgInt(info, 0, "socketFd", 0);
  char buf[kMaxData];
  ssize_t len = 0;
  int fd = -1;
  int err = RecvFdRaw(sock, buf, sizeof(buf), &len, &fd);
  if (err != 0) throw ErrnoError(env, err, "recvmsg");
  if (len == 0 && fd < 0) return env.Null();
  Napi::Object r = Napi::Object::New(env);
  r.Set("fd", fd < 0 ? env.Null() : Napi::Number::New(env, fd));
  r.Set("data", Napi::Buffer<char>::Copy(env, buf, static_cast<size_t>(len)));
  return r;
}

}  // namespace

int RecvFdRaw(int sock, char* buf, size_t cap, ssize_t* len, int* fd) {
  struct iovec iov = {buf, cap};
  union {
    char buf[CMSG_SPACE(kMaxFds * sizeof(int))];
    struct cmsghdr align;
  } ctl;
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl.buf;
  msg.msg_controllen = sizeof(ctl.buf);

  ssize_t n;
  do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) return errno;

  int fds[kMaxFds];
  int count = 0;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < k && count < kMaxFds; i++) memcpy(&fds[count++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
  }
  if (count > 1 || (msg.msg_flags & MSG_CTRUNC)) {
    for (int i = 0; i < count; i++) close(fds[i]);
    return EPROTO;
  }
  *len = n;
  *fd = count == 1 ? fds[0] : -1;
  return 0;
}

void InitFd(Napi::Env env, Napi::Object exports) {
  exports.Set("pipe", Napi::Function::New(env, Pipe, "pipe"));
  exports.Set("socketpair", Napi::Function::New(env, SocketPair, "socketpair"));
  exports.Set("setCloexec", Napi::Function::New(env, SetCloexec, "setCloexec"));
  exports.Set("setPipeSize", Napi::Function::New(env, SetPipeSize, "setPipeSize"));
  exports.Set("getPipeSize", Napi::Function::New(env, GetPipeSize, "getPipeSize"));
  exports.Set("sendFd", Napi::Function::New(env, SendFd, "sendFd"));
  exports.Set("recvFd", Napi::Function::New(env, RecvFd, "recvFd"));
}

}  // namespace berth
