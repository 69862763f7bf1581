// mount(2) and umount2(2), thin and synchronous: berthd and berth-containerd mount a container's
// root (a snapshot's overlay or bind) themselves instead of exec'ing util-linux's mount(8) and
// umount(8), ~20 ms a container. Option parsing and recursive unmounting are TypeScript's
// (packages/runc/src/native/mount.ts); this file only makes the calls.
#include <sys/mount.h>

#include "common.h"

namespace berth {
namespace {

// "" means NULL: a remount or a propagation change has no source, type or data.
const char* OrNull(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }

// mount(source, target, fstype, flags, data)
Napi::Value Mount(const Napi::CallbackInfo& info) {
  const std::string source = ArgString(info, 0, "source");
  const std::string target = ArgString(info, 1, "target");
  const std::string fstype = ArgString(info, 2, "fstype");
  const int flags = ArgInt(info, 3, "flags", 0);
  const std::string data = ArgString(info, 4, "data");
  if (mount(OrNull(source), target.c_str(), OrNull(fstype), static_cast<unsigned long>(flags),
            OrNull(data)) < 0) {
    ThrowErrno(info.Env(), "mount", target);
  }
  return info.Env().Undefined();
}

// umount2(target, flags)
Napi::Value Umount2(const Napi::CallbackInfo& info) {
  const std::string target = ArgString(info, 0, "target");
  const int flags = ArgInt(info, 1, "flags", 0);
  if (umount2(target.c_str(), flags) < 0) ThrowErrno(info.Env(), "umount2", target);
  return info.Env().Undefined();
}

}  // namespace

void InitMount(Napi::Env env, Napi::Object exports) {
  exports.Set("mount", Napi::Function::New(env, Mount, "mount"));
  exports.Set("umount2", Napi::Function::New(env, Umount2, "umount2"));
}

}  // namespace berth
