// berth_native: the few system calls Node cannot make (see DESIGN.md, "The native boundary").
// Each group lives in its own file; this one only registers them.
#include "common.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  berth::InitFd(env, exports);
  berth::InitProcess(env, exports);
  berth::InitTty(env, exports);
  berth::InitConsole(env, exports);
  berth::InitExtract(env, exports);
  berth::InitClock(env, exports);
  berth::InitMount(env, exports);
  return exports;
}

NODE_API_MODULE(berth_native, Init)
