// Shared helpers for berth_native. Every failing system call becomes a JS Error shaped like
// Node's own (code "EBADF", errno -9, syscall "fcntl"), so callers can treat it as a
// NodeJS.ErrnoException and branch on `code`.
#pragma once

#include <napi.h>

#include <cerrno>
#include <string>

namespace berth {

// Builds the Error for `err` (a positive errno) failing in `syscall`; `detail` adds context
// such as a path.
Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall, const std::string& detail = "");

// Throws ErrnoError for the current errno.
[[noreturn]] void ThrowErrno(Napi::Env env, const char* syscall, const std::string& detail = "");

// Argument checks: a TypeError/RangeError, not a crash, when JS passes the wrong thing.
int ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name, int min);
bool ArgBool(const Napi::CallbackInfo& info, size_t i, const char* name);
std::string ArgString(const Napi::CallbackInfo& info, size_t i, const char* name);

// Module registration, one per source file.
void InitFd(Napi::Env env, Napi::Object exports);
void InitProcess(Napi::Env env, Napi::Object exports);
void InitTty(Napi::Env env, Napi::Object exports);
void InitClock(Napi::Env env, Napi::Object exports);
void InitConsole(Napi::Env env, Napi::Object exports);
void InitExtract(Napi::Env env, Napi::Object exports);
void InitMount(Napi::Env env, Napi::Object exports);

}  // namespace berth
