// Errors and argument checks shared by every group of functions.
#include <cmath>
#include <cstring>

#include "common.h"

namespace berth {

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall, const std::string& detail) {
  // strerrorname_np (glibc >= 2.32) gives the symbolic name Node uses as `code`.
  const char* name = strerrorname_np(err);
  std::string code = name ? name : "E" + std::to_string(err);
  std::string message = code + ": " + strerror(err) + ", " + syscall;
  if (!detail.empty()) message += " '" + detail + "'";
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, -err));  // negative, as in Node's fs errors
  e.Set("syscall", Napi::String::New(env, syscall));
  if (!detail.empty()) e.Set("path", Napi::String::New(env, detail));
  return e;
}

void ThrowErrno(Napi::Env env, const char* syscall, const std::string& detail) {
  throw ErrnoError(env, errno, syscall, detail);
}

int ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name, int min) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  }
  double v = info[i].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(v) || v != std::floor(v) || v < min || v > 2147483647.0) {
    throw Napi::RangeError::New(info.Env(), std::string(name) + " must be an integer >= " +
                                                std::to_string(min));
  }
  return static_cast<int>(v);
}

bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsBoolean()) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a boolean");
  }
  return info[i].As<Napi::Boolean>().Value();
}

std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsString()) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a string");
  }
  return info[i].As<Napi::String>().Utf8Value();
}

}  // namespace berth
