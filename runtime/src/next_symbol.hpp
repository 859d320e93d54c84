// The definition of a function that comes after the executable's own in
// the dynamic linker's search order (the shared library's), for the
// executable's replacements that call through to it
// (openssl_error_queue.cpp, resume_cast.cpp). Aborts when there is none.
#pragma once

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

namespace es::detail {

template <class Fn>
Fn next_symbol(const char* name) {
  auto fn = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
  if (fn == nullptr) {
    std::fprintf(stderr, "eventsource: no shared library defines %s\n", name);
    std::abort();
  }
  return fn;
}

} // namespace es::detail
