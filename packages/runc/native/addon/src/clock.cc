// The wall clock in nanoseconds. Node has only Date.now() (milliseconds) and monotonic hrtime;
// pairing the two once drifts from the wall clock and is off by any pause between the two
// reads, which puts exit and log times before the events they record.
#include <stdint.h>
#include <time.h>

#include "common.h"

namespace berth {

static Napi::Value RealtimeNs(const Napi::CallbackInfo& info) {
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) < 0) ThrowErrno(info.Env(), "clock_gettime");
  const uint64_t ns = static_cast<uint64_t>(ts.tv_sec) * UINT64_C(1000000000) + static_cast<uint64_t>(ts.tv_nsec);
  return Napi::BigInt::New(info.Env(), ns);
}

void InitClock(Napi::Env env, Napi::Object exports) {
  exports.Set("realtimeNs", Napi::Function::New(env, RealtimeNs, "realtimeNs"));
}

}  // namespace berth
