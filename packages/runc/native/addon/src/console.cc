// receiveConsole: the listening end of an OCI runtime's --console-socket. The runtime connects
// and sends the pty master with SCM_RIGHTS, the pty's name as the message body (runc's
// utils.SendFile; runc's recvtty and containerd's console socket receive it the same way).
// The wait runs on the libuv thread pool and is bounded by poll() timeouts, so a runtime that
// never connects costs one pool thread for at most timeoutMs, never forever.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "common.h"
#include "fdpass.h"

namespace berth {

namespace {

int64_t NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Waits for `fd` to become readable before `deadline`; 0, ETIMEDOUT or an errno.
int WaitReadable(int fd, int64_t deadline) {
  for (;;) {
    int64_t left = deadline - NowMs();
    if (left < 0) left = 0;
    struct pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left));
    if (r > 0) return 0;
    if (r == 0) return ETIMEDOUT;
    if (errno != EINTR) return errno;
  }
}

// Binds and listens at `path` with mode 0600; the listener fd, or -1 with *err/*syscall set.
int Listen(const std::string& path, int* err, const char** syscall) {
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    *err = ENAMETOOLONG;
    *syscall = "bind";
    return -1;
  }
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *err = errno;
    *syscall = "socket";
    return -1;
  }
  // The socket inode's mode (less the umask) becomes the bound file's mode, so the file is
  // 0600 from the moment it appears: no window in which another user could connect.
  if (fchmod(fd, 0600) < 0) {
    *syscall = "fchmod";
  } else if (bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) < 0) {
    *syscall = "bind";
  } else if (listen(fd, 1) < 0) {
    *syscall = "listen";
    *err = errno;
    unlink(path.c_str());
    close(fd);
    return -1;
  } else {
    return fd;
  }
  *err = errno;
  close(fd);
  return -1;
}

class ReceiveConsoleWorker : public Napi::AsyncWorker {
 public:
  ReceiveConsoleWorker(Napi::Env env, std::string path, int listener, int timeoutMs)
      : Napi::AsyncWorker(env, "berth.receiveConsole"),
        deferred_(Napi::Promise::Deferred::New(env)),
        path_(std::move(path)),
        listener_(listener),
        timeoutMs_(timeoutMs) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    Accept(NowMs() + timeoutMs_);
    close(listener_);
    unlink(path_.c_str());
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (err_ != 0) {
      deferred_.Reject(ErrnoError(env, err_, syscall_, path_).Value());
      return;
    }
    Napi::Object r = Napi::Object::New(env);
    r.Set("fd", Napi::Number::New(env, fd_));
    r.Set("name", Napi::String::New(env, name_));
    deferred_.Resolve(r);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  void Fail(const char* syscall, int err) {
    err_ = err;
    syscall_ = syscall;
  }

  void Accept(int64_t deadline) {
    int err = WaitReadable(listener_, deadline);
    if (err != 0) return Fail("poll", err);
    int conn;
    do conn = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    while (conn < 0 && errno == EINTR);
    if (conn < 0) return Fail("accept4", errno);
    err = WaitReadable(conn, deadline);
    if (err != 0) {
      close(conn);
      return Fail("poll", err);
    }
    char buf[4096];
    ssize_t len = 0;
    int fd = -1;
    err = RecvFdRaw(conn, buf, sizeof(buf), &len, &fd);
    close(conn);
    if (err != 0) return Fail("recvmsg", err);
    if (fd < 0) return Fail("recvmsg", EPROTO);  // connected, but sent no fd
    fd_ = fd;
    name_.assign(buf, strnlen(buf, static_cast<size_t>(len)));
  }

  Napi::Promise::Deferred deferred_;
  std::string path_;
  int listener_;
  int timeoutMs_;
  int err_ = 0;
  const char* syscall_ = "";
  int fd_ = -1;
  std::string name_;
};

// receiveConsole(socketPath, timeoutMs): Promise<{ fd, name }>. Binds socketPath before it
// returns (so the runtime may be started right away; the path must not exist, and belongs in a
// 0700 directory), then on the pool accepts one connection and receives one fd, and closes and
// unlinks the listener whatever happened. Rejects with the bind error, with ETIMEDOUT (syscall
// "poll") when nothing arrives in time, or with EPROTO when the peer sent no fd.
Napi::Value ReceiveConsole(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "socketPath must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  if (path.empty() || path.find('\0') != std::string::npos) {
    throw Napi::TypeError::New(env, "socketPath must be a non-empty path");
  }
  int timeoutMs = ArgInt(info, 1, "timeoutMs", 0);
  int err = 0;
  const char* syscall = "";
  int listener = Listen(path, &err, &syscall);
  if (listener < 0) {
    Napi::Promise::Deferred d = Napi::Promise::Deferred::New(env);
    d.Reject(ErrnoError(env, err, syscall, path).Value());
    return d.Promise();
  }
  auto* worker = new ReceiveConsoleWorker(env, std::move(path), listener, timeoutMs);
  Napi::Promise p = worker->Promise();
  worker->Queue();  // the worker deletes itself after OnOK/OnError
  return p;
}

}  // namespace

void InitConsole(Napi::Env env, Napi::Object exports) {
  exports.Set("receiveConsole", Napi::Function::New(env, ReceiveConsole, "receiveConsole"));
}

}  // namespace berth
