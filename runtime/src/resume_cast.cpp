// Caches the one dynamic_cast that CAF 0.17.6 makes every time a worker
// thread resumes an actor.
//
// Why: Debian builds CAF with logging compiled in, and the scheduler's loop
// (caf/scheduler/worker.hpp) runs
// `CAF_PUSH_AID_FROM_PTR(dynamic_cast<abstract_actor*>(job))` before each
// resume: a cross-cast from `caf::resumable` through the actor's deep class
// hierarchy, ~1,300 instructions with type-name strcmps. A command resumes
// four to six actors (caller, aggregate twice, journal), so that cast was
// 17% of all instructions in `bank load` on the memory store (callgrind).
//
// How: the executable defines `__dynamic_cast` (es_runtime is a static
// library; the dynamic linker finds this one before libstdc++'s). Casts from
// `caf::resumable` are looked up in a small per-thread table keyed by the
// object's vtable pointer: the same vtable means the same complete type and
// the same subobject, so the same offset to the result (or no result). A
// miss, and every other cast, goes to libstdc++'s function, found with
// dlsym(RTLD_NEXT). Limit: a program that unloads (dlclose) a library
// defining actor types and loads another at the same address could hit a
// stale entry; eventsource loads no plugins.
// runtime.cpp refers to `resume_cast_cached` so that the linker keeps this
// file.
#include <cstddef>
#include <cstdint>
#include <cxxabi.h>
#include <typeinfo>

#include <caf/resumable.hpp>

#include "next_symbol.hpp"

namespace {

using abi_class = __cxxabiv1::__class_type_info;
using cast_fn = void* (*) (const void*, const abi_class*, const abi_class*,
                           std::ptrdiff_t);

// One entry per vtable seen: where the cast to `dst` lands.
struct entry {
  const void* vptr = nullptr;
  const abi_class* dst = nullptr;
  std::ptrdiff_t offset = 0;
  bool found = false;
};

constexpr size_t table_size = 64; // a power of two; actor types are few

thread_local entry table[table_size];

} // namespace

extern "C" void* __dynamic_cast(const void* src, const abi_class* src_type,
                                const abi_class* dst_type,
                                std::ptrdiff_t src2dst) {
  static auto real = es::detail::next_symbol<cast_fn>("__dynamic_cast");
  if (src == nullptr || src_type != &typeid(caf::resumable))
    return real(src, src_type, dst_type, src2dst);
  auto vptr = *static_cast<const void* const*>(src);
  auto& e = table[(reinterpret_cast<std::uintptr_t>(vptr) >> 4)
                  & (table_size - 1)];
  if (e.vptr == vptr && e.dst == dst_type)
    return e.found ? const_cast<char*>(static_cast<const char*>(src))
                       + e.offset
                   : nullptr;
  auto result = real(src, src_type, dst_type, src2dst);
  e.vptr = vptr;
  e.dst = dst_type;
  e.found = result != nullptr;
  e.offset = e.found ? static_cast<const char*>(result)
                         - static_cast<const char*>(src)
                     : 0;
  return result;
}

namespace es::detail {

bool resume_cast_cached() {
  return true;
}

} // namespace es::detail
