// Extraction inside a root: every path given here is resolved inside a root directory fd with
// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), so `..`, absolute symlinks and symlinks
// pointing out of the root stay inside it (DESIGN.md, "Isolation defaults"). Only the parent of
// a path is resolved that way; the last component is never followed: each call acts on it with
// an *at system call relative to the resolved parent (mkdirat, symlinkat, mknodat, linkat,
// fchownat(AT_SYMLINK_NOFOLLOW), utimensat(AT_SYMLINK_NOFOLLOW), ...). A check in TypeScript
// followed by a use would race with whatever else writes the tree (CVE-2018-15664).
//
// Paths are relative to the root ("a/b/c"; a leading "/" is also taken relative to it); "." or
// "" names the root itself. Every fd returned is O_CLOEXEC.
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common.h"

namespace berth {
namespace {

constexpr unsigned long long kResolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

int Openat2(int dirfd, const char* path, int flags, mode_t mode) {
  struct open_how how = {};
  how.flags = static_cast<unsigned long long>(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = kResolve;
  for (;;) {
    long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
    // EAGAIN: a concurrent rename or mount raced the lookup; the kernel asks us to retry.
    if (fd < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    return static_cast<int>(fd);
  }
}

// Closes an fd when it goes out of scope.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

// uid/gid and device numbers go up to 2^32-1, beyond ArgInt's range.
unsigned ArgU32(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  }
  double v = info[i].As<Napi::Number>().DoubleValue();
  if (!(v >= 0 && v <= 4294967295.0) || v != static_cast<double>(static_cast<unsigned>(v))) {
    throw Napi::RangeError::New(info.Env(), std::string(name) + " must be an integer in [0, 2^32)");
  }
  return static_cast<unsigned>(v);
}

// The parent of `path`, opened (O_PATH | O_DIRECTORY) inside the root, and the last component.
struct Resolved {
  int parent;  // owned by the caller (wrap in Fd)
  std::string base;
};

Resolved ResolveParent(Napi::Env env, int root, const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t slash = p.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : p.substr(0, slash));
  std::string base = slash == std::string::npos ? p : p.substr(slash + 1);
  if (base.empty() || base == "/") base = ".";
  if (base == "..") {
    // "a/.." would act on whatever ".." names; refuse rather than guess.
    throw ErrnoError(env, EINVAL, "resolve", path);
  }
  int fd = Openat2(root, dir.c_str(), O_PATH | O_DIRECTORY, 0);
  if (fd < 0) ThrowErrno(env, "openat2", path);
  return {fd, base};
}

// "/proc/self/fd/<parent>/<base>": a path for the xattr calls, which have no *at form. The
// parent is already resolved inside the root, and the l* calls never follow `base`.
std::string ProcPath(int parent, const std::string& base) {
  return "/proc/self/fd/" + std::to_string(parent) + "/" + base;
}

int RootFd(const Napi::CallbackInfo& info) { return ArgInt(info, 0, "rootFd", 0); }

// openRoot(path): an O_PATH directory fd to resolve paths inside.
Napi::Value OpenRoot(const Napi::CallbackInfo& info) {
  std::string path = ArgString(info, 0, "path");
  int fd = open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) ThrowErrno(info.Env(), "open", path);
  return Napi::Number::New(info.Env(), fd);
}

// openAt(rootFd, path, flags, mode): openat2 inside the root; the last component is never
// followed (O_NOFOLLOW is added), so opening a symlink fails with ELOOP.
Napi::Value OpenAt(const Napi::CallbackInfo& info) {
  int root = RootFd(info);
  std::string path = ArgString(info, 1, "path");
  int flags = ArgInt(info, 2, "flags", 0);
  int mode = ArgInt(info, 3, "mode", 0);
  int fd = Openat2(root, path.c_str(), flags | O_NOFOLLOW, static_cast<mode_t>(mode));
  if (fd < 0) ThrowErrno(info.Env(), "openat2", path);
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value MkdirAt(const Napi::CallbackInfo& info) {
  int root = RootFd(info);
  std::string path = ArgString(info, 1, "path");
  int mode = ArgInt(info, 2, "mode", 0);
  Resolved r = ResolveParent(info.Env(), root, path);
  Fd parent(r.parent);
  if (mkdirat(parent.fd, r.base.c_str(), static_cast<mode_t>(mode)) < 0) ThrowErrno(info.Env(), "mkdirat", path);
  return info.Env().Undefined();
}

Napi::Value SymlinkAt(const Napi::CallbackInfo& info) {
  int root = RootFd(info);
  std::string path = ArgString(info, 1, "path");
  std::string target = ArgString(info, 2, "target");
  Resolved r = ResolveParent(info.Env(), root, path);
  Fd parent(r.parent);
  // The target is stored as given: it is only ever resolved later, inside the container's root.
  if (symlinkat(target.c_str(), parent.fd, r.base.c_str()) < 0) ThrowErrno(info.Env(), "symlinkat", path);
  return info.Env().Undefined();
}

// linkAt(rootFd, target, path): a hard link at `path` to the existing `target`, both resolved
// inside the root; a symlink at `target` is linked itself, never followed.
Napi::Value LinkAt(const Napi::CallbackInfo& info) {
  int root = RootFd(info);
  std::string target = ArgString(info, 1, "target");
  std::string path = ArgString(info, 2, "path");
  Resolved t = ResolveParent(info.Env(), root, target);
  Fd tparent(t.parent);
  Resolved r = ResolveParent(info.Env(), root, path);
  Fd parent(r.parent);
  if (linkat(tparent.fd, t.base.c_str(), parent.fd, r.base.c_str(), 0) < 0) {
    ThrowErrno(info.Env(), "linkat", path + " -> " + target);
  }
  return info.Env().Undefined();
}

// mknodAt(rootFd, path, mode, major, minor): mode carries the type (S_IFCHR, S_IFBLK, S_IFIFO).
Napi::Value MknodAt(const Napi::CallbackInfo& info) {
  int root = RootFd(info);
  std::string path = ArgString(info, 1, "path");
  unsigned mode = ArgU32(info, 2, "mode");
  unsigned major = ArgU32(info, 3, "major");
  unsigned minor = ArgU32(info, 4, "minor");
  Resolved r = ResolveParent(info.Env(), root, path);
  Fd parent(r.parent);
  if (mknodat(parent.fd, r.base.c_str(), mode, makedev(major, minor)) < 0) ThrowErrno(info.Env(), "mknodat", path);
  return info.Env().Undefined();
}

// whiteoutAt(rootFd, path): overlayfs' whiteout, a character device 0:0.
Napi::Value WhiteoutAt(const Napi::CallbackInfo& info) {
  int root = RootFd(info);
  std::string path = ArgString(info, 1, "path");
  Resolved r = ResolveParent(info.Env(), root, path);
  Fd parent(r.parent);
  if (mknodat(parent.fd, r.base.c_str(), S_IFCHR | 0, makedev(0, 0)) < 0) ThrowErrno(info.Env(), "mknodat", path);
  return info.Env().Undefined();
}

Napi::Value LchownAt(const Napi::CallbackInfo& info) {
  int root = RootFd(info);
  std::string path = ArgString(info, 1, "path");
  unsigned uid = ArgU32(info, 2, "uid");
  unsigned gid = ArgU32(info, 3, "gid");
  Resolved r = ResolveParent(info.Env(), root, path);
  Fd parent(r.parent);
  if (fchownat(parent.fd, r.base.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) < 0) ThrowErrno(info.Env(), "fchownat", path);
  return info.Env().Undefined();
}

// chmodAt(rootFd, path, mode): the full mode incl. setuid/setgid/sticky, which mkdir/open/mknod
// cannot set (umask, and the kernel strips S_ISGID from mkdir). Never follows; EOPNOTSUPP on a
// symlink (whose mode Linux does not keep).
Napi::Value ChmodAt(const Napi::CallbackInfo& info) {
  int root = RootFd(info);
  std::string path = ArgString(info, 1, "path");
  int mode = ArgInt(info, 2, "mode", 0);
  Resolved r = ResolveParent(info.Env(), root, path);
  Fd parent(r.parent);
  if (fchmodat(parent.fd, r.base.c_str(), static_cast<mode_t>(mode), AT_SYMLINK_NOFOLLOW) < 0) {
    ThrowErrno(info.Env(), "fchmodat", path);
  }
  return info.Env().Undefined();
}

int64_t ArgBigInt(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsBigInt()) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a bigint");
  }
  bool lossless = false;
  int64_t v = info[i].As<Napi::BigInt>().Int64Value(&lossless);
  if (!lossless) throw Napi::RangeError::New(info.Env(), std::string(name) + " out of range");
  return v;
}

// lutimesAt(rootFd, path, atimeNs, mtimeNs): times in nanoseconds since the epoch (bigint).
Napi::Value LutimesAt(const Napi::CallbackInfo& info) {
  int root = RootFd(info);
  std::string path = ArgString(info, 1, "path");
  int64_t at = ArgBigInt(info, 2, "atimeNs");
  int64_t mt = ArgBigInt(info, 3, "mtimeNs");
  auto ts = [](int64_t ns) {
    struct timespec t;
    t.tv_sec = ns / 1000000000;
    t.tv_nsec = ns % 1000000000;
    if (t.tv_nsec < 0) {
      t.tv_nsec += 1000000000;
      t.tv_sec -= 1;
    }
    return t;
  };
  struct timespec times[2] = {ts(at), ts(mt)};
  Resolved r = ResolveParent(info.Env(), root, path);
  Fd parent(r.parent);
  if (utimensat(parent.fd, r.base.c_str(), times, AT_SYMLINK_NOFOLLOW) < 0) ThrowErrno(info.Env(), "utimensat", path);
  return info.Env().Undefined();
}

Napi::Value LsetxattrAt(const Napi::CallbackInfo& info) {
  int root = RootFd(info);
  std::string path = ArgString(info, 1, "path");
  std::string name = ArgString(info, 2, "name");
  if (info.Length() <= 3 || !info[3].IsBuffer()) throw Napi::TypeError::New(info.Env(), "value must be a Buffer");
  auto value = info[3].As<Napi::Buffer<char>>();
  Resolved r = ResolveParent(info.Env(), root, path);
  Fd parent(r.parent);
  if (lsetxattr(ProcPath(parent.fd, r.base).c_str(), name.c_str(), value.Data(), value.Length(), 0) < 0) {
    ThrowErrno(info.Env(), "lsetxattr", path + " " + name);
  }
  return info.Env().Undefined();
}

// lgetxattrsAt(rootFd, path): every extended attribute of `path` (not followed), name → Buffer.
// Binary values stay binary.
Napi::Value LgetxattrsAt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int root = RootFd(info);
  std::string path = ArgString(info, 1, "path");
  Resolved r = ResolveParent(env, root, path);
  Fd parent(r.parent);
  std::string p = ProcPath(parent.fd, r.base);
  std::vector<char> names;
  for (;;) {
    ssize_t n = llistxattr(p.c_str(), nullptr, 0);
    if (n < 0) ThrowErrno(env, "llistxattr", path);
    names.resize(static_cast<size_t>(n));
    if (n == 0) break;
    n = llistxattr(p.c_str(), names.data(), names.size());
    if (n >= 0) {
      names.resize(static_cast<size_t>(n));
      break;
    }
    if (errno != ERANGE) ThrowErrno(env, "llistxattr", path);
  }
  Napi::Object out = Napi::Object::New(env);
  for (size_t i = 0; i < names.size();) {
    std::string name(&names[i]);
    i += name.size() + 1;
    if (name.empty()) continue;
    std::vector<char> value;
    for (;;) {
      ssize_t n = lgetxattr(p.c_str(), name.c_str(), nullptr, 0);
      if (n < 0) {
        if (errno == ENODATA) break;  // removed meanwhile
        ThrowErrno(env, "lgetxattr", path + " " + name);
      }
      value.resize(static_cast<size_t>(n));
      n = lgetxattr(p.c_str(), name.c_str(), value.data(), value.size());
      if (n >= 0) {
        value.resize(static_cast<size_t>(n));
        out.Set(name, Napi::Buffer<char>::Copy(env, value.data(), value.size()));
        break;
      }
      if (errno != ERANGE) ThrowErrno(env, "lgetxattr", path + " " + name);
    }
  }
  return out;
}

// lstatAt(rootFd, path): the entry itself (not followed), or null when it does not exist.
// Times are bigint nanoseconds.
Napi::Value LstatAt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int root = RootFd(info);
  std::string path = ArgString(info, 1, "path");
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t slash = p.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : p.substr(0, slash));
  int pfd = Openat2(root, dir.c_str(), O_PATH | O_DIRECTORY, 0);
  if (pfd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return env.Null();
    ThrowErrno(env, "openat2", path);
  }
  Fd parent(pfd);
  std::string base = slash == std::string::npos ? p : p.substr(slash + 1);
  if (base.empty() || base == "/") base = ".";
  if (base == "..") throw ErrnoError(env, EINVAL, "resolve", path);
  struct stat st;
  if (fstatat(parent.fd, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return env.Null();
    ThrowErrno(env, "fstatat", path);
  }
  auto ns = [&](const struct timespec& t) {
    return Napi::BigInt::New(env, static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec);
  };
  Napi::Object o = Napi::Object::New(env);
  o.Set("mode", Napi::Number::New(env, st.st_mode));
  o.Set("uid", Napi::Number::New(env, st.st_uid));
  o.Set("gid", Napi::Number::New(env, st.st_gid));
  o.Set("size", Napi::Number::New(env, static_cast<double>(st.st_size)));
  o.Set("ino", Napi::Number::New(env, static_cast<double>(st.st_ino)));
  o.Set("nlink", Napi::Number::New(env, static_cast<double>(st.st_nlink)));
  o.Set("rdevMajor", Napi::Number::New(env, major(st.st_rdev)));
  o.Set("rdevMinor", Napi::Number::New(env, minor(st.st_rdev)));
  o.Set("atimeNs", ns(st.st_atim));
  o.Set("mtimeNs", ns(st.st_mtim));
  return o;
}

// Removes everything inside the directory `dirfd` (which it closes), never following symlinks.
int RemoveChildren(int dirfd) {
  DIR* d = fdopendir(dirfd);
  if (!d) {
    int e = errno;
    close(dirfd);
    errno = e;
    return -1;
  }
  int rc = 0;
  std::vector<std::string> names;
  while (struct dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  for (const std::string& n : names) {
    if (unlinkat(dirfd, n.c_str(), 0) == 0 || errno == ENOENT) continue;
    if (errno != EISDIR) {
      rc = -1;
      break;
    }
    int sub = openat(dirfd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0 || RemoveChildren(sub) < 0 || unlinkat(dirfd, n.c_str(), AT_REMOVEDIR) < 0) {
      rc = -1;
      break;
    }
  }
  int e = errno;
  closedir(d);
  errno = e;
  return rc;
}

// removeAt(rootFd, path): removes a non-directory, or a directory and all beneath it; true if
// something was removed, false if nothing was there.
Napi::Value RemoveAt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int root = RootFd(info);
  std::string path = ArgString(info, 1, "path");
  Resolved r = ResolveParent(env, root, path);
  Fd parent(r.parent);
  if (r.base == ".") throw ErrnoError(env, EINVAL, "removeAt", path);  // never the root itself
  if (unlinkat(parent.fd, r.base.c_str(), 0) == 0) return Napi::Boolean::New(env, true);
  if (errno == ENOENT) return Napi::Boolean::New(env, false);
  if (errno != EISDIR) ThrowErrno(env, "unlinkat", path);
  int sub = openat(parent.fd, r.base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sub < 0 || RemoveChildren(sub) < 0) ThrowErrno(env, "remove", path);
  if (unlinkat(parent.fd, r.base.c_str(), AT_REMOVEDIR) < 0) ThrowErrno(env, "unlinkat", path);
  return Napi::Boolean::New(env, true);
}

}  // namespace

void InitExtract(Napi::Env env, Napi::Object exports) {
  exports.Set("openRoot", Napi::Function::New(env, OpenRoot, "openRoot"));
  exports.Set("openAt", Napi::Function::New(env, OpenAt, "openAt"));
  exports.Set("mkdirAt", Napi::Function::New(env, MkdirAt, "mkdirAt"));
  exports.Set("symlinkAt", Napi::Function::New(env, SymlinkAt, "symlinkAt"));
  exports.Set("linkAt", Napi::Function::New(env, LinkAt, "linkAt"));
  exports.Set("mknodAt", Napi::Function::New(env, MknodAt, "mknodAt"));
  exports.Set("whiteoutAt", Napi::Function::New(env, WhiteoutAt, "whiteoutAt"));
  exports.Set("lchownAt", Napi::Function::New(env, LchownAt, "lchownAt"));
  exports.Set("chmodAt", Napi::Function::New(env, ChmodAt, "chmodAt"));
  exports.Set("lutimesAt", Napi::Function::New(env, LutimesAt, "lutimesAt"));
  exports.Set("lsetxattrAt", Napi::Function::New(env, LsetxattrAt, "lsetxattrAt"));
  exports.Set("lgetxattrsAt", Napi::Function::New(env, LgetxattrsAt, "lgetxattrsAt"));
  exports.Set("lstatAt", Napi::Function::New(env, LstatAt, "lstatAt"));
  exports.Set("removeAt", Napi::Function::New(env, RemoveAt, "removeAt"));
}

}  // namespace berth
