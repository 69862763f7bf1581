// Terminal size: Node can only resize a tty it owns as process.stdout; the shim must resize
// the container's pty master it received from the runtime.
#include <sys/ioctl.h>

#include "common.h"

namespace berth {

namespace {

// setWinsize(fd, rows, cols): the kernel sends SIGWINCH to the pty's foreground group.
Napi::Value SetWinsize(const Napi::CallbackInfo& info) {
  int fd = ArgInt(info, 0, "fd", 0);
  int rows = ArgInt(info, 1, "rows", 0);
  int cols = ArgInt(info, 2, "cols", 0);
  if (rows > 0xffff || cols > 0xffff) throw Napi::RangeError::New(info.Env(), "rows and cols must fit in 16 bits");
  struct winsize ws = {};
  ws.ws_row = static_cast<unsigned short>(rows);
  ws.ws_col = static_cast<unsigned short>(cols);
  if (ioctl(fd, TIOCSWINSZ, &ws) < 0) ThrowErrno(info.Env(), "ioctl");
  return info.Env().Undefined();
}

// getWinsize(fd): { rows, cols }
Napi::Value GetWinsize(const Napi::CallbackInfo& info) {
  int fd = ArgInt(info, 0, "fd", 0);
  struct winsize ws = {};
  if (ioctl(fd, TIOCGWINSZ, &ws) < 0) ThrowErrno(info.Env(), "ioctl");
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("rows", Napi::Number::New(info.Env(), ws.ws_row));
  o.Set("cols", Napi::Number::New(info.Env(), ws.ws_col));
  return o;
}

}  // namespace

void InitTty(Napi::Env env, Napi::Object exports) {
  exports.Set("setWinsize", Napi::Function::New(env, SetWinsize, "setWinsize"));
  exports.Set("getWinsize", Napi::Function::New(env, GetWinsize, "getWinsize"));
}

}  // namespace berth
