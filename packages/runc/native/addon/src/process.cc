// Process supervision for the shim: become a child subreaper, so a container's init that
// outlives the runtime that started it is reparented to us; find and reap such children by
// pid; and open pidfds to watch a pid without pid-reuse races.
//
// Never waitpid(-1): libuv reaps the children it spawned with waitpid(pid) from its SIGCHLD
// handler, and a wildcard wait here would steal their statuses.
#include <dirent.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <vector>

#include "common.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

namespace berth {

namespace {

// setChildSubreaper(): affects the whole process, from now on.
Napi::Value SetChildSubreaper(const Napi::CallbackInfo& info) {
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) ThrowErrno(info.Env(), "prctl");
  return info.Env().Undefined();
}

// waitPid(pid, noHang): { pid, exitCode, signal, status } | null (null: noHang and still
// running). Raw results: exitCode when it exited, signal when a signal killed it; the
// 128+N shell convention is the caller's. Blocking waits block the JS thread: the shim should
// wait for readiness on a pidfd and then call waitPid(pid, true).
Napi::Value WaitPid(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pid = ArgInt(info, 0, "pid", 1);
  bool noHang = ArgBool(info, 1, "noHang");
  int status = 0;
  pid_t r;
  do r = waitpid(pid, &status, noHang ? WNOHANG : 0);
  while (r < 0 && errno == EINTR);
  if (r < 0) ThrowErrno(env, "waitpid");
  if (r == 0) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", Napi::Number::New(env, r));
  o.Set("exitCode", WIFEXITED(status) ? Napi::Number::New(env, WEXITSTATUS(status)) : env.Null());
  o.Set("signal", WIFSIGNALED(status) ? Napi::Number::New(env, WTERMSIG(status)) : env.Null());
  o.Set("status", Napi::Number::New(env, status));
  return o;
}

// reapableChildren(): pids of every child of this process, zombies included, sorted. The
// kernel lists children per thread (an orphan goes to any live thread of its subreaper), so
// all of /proc/self/task/*/children is read. This includes libuv's own children: the caller
// must skip pids it spawned through child_process.
Napi::Value ReapableChildren(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DIR* dir = opendir("/proc/self/task");
  if (!dir) ThrowErrno(env, "opendir", "/proc/self/task");
  std::vector<int> pids;
  while (struct dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    // A thread may exit between readdir and open: skip it.
    std::ifstream f(std::string("/proc/self/task/") + e->d_name + "/children");
    int pid;
    while (f >> pid) pids.push_back(pid);
  }
  closedir(dir);
  std::sort(pids.begin(), pids.end());
  pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
  Napi::Array a = Napi::Array::New(env, pids.size());
  for (size_t i = 0; i < pids.size(); i++) a.Set(static_cast<uint32_t>(i), Napi::Number::New(env, pids[i]));
  return a;
}

// pidfdOpen(pid): an O_CLOEXEC pidfd; readable once the process exits (poll it), and stays
// bound to that process even if the pid is reused.
Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  int pid = ArgInt(info, 0, "pid", 1);
  long fd = syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) ThrowErrno(info.Env(), "pidfd_open");
  return Napi::Number::New(info.Env(), static_cast<double>(fd));
}

}  // namespace

void InitProcess(Napi::Env env, Napi::Object exports) {
  exports.Set("setChildSubreaper", Napi::Function::New(env, SetChildSubreaper, "setChildSubreaper"));
  exports.Set("waitPid", Napi::Function::New(env, WaitPid, "waitPid"));
  exports.Set("reapableChildren", Napi::Function::New(env, ReapableChildren, "reapableChildren"));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen, "pidfdOpen"));
}

}  // namespace berth
