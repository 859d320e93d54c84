// aggregate_memory: resident memory per live, idle aggregate actor.
//
//   build/bin/aggregate_memory [--aggregates 100000]
//
// Starts a runtime on the in-memory store, makes N account aggregates live
// (each recovers an empty stream and then idles), and prints the growth of
// the process's resident set divided by N. The account state itself is
// about 48 bytes (two flags, an empty owner string, a balance).
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "account.hpp"
#include "es/runtime.hpp"

namespace {

// Returns the resident set size in bytes (Linux).
long resident_bytes() {
  std::ifstream statm{"/proc/self/statm"};
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * 4096;
}

} // namespace

int main(int argc, char** argv) {
  long n = 100'000;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--aggregates" && i + 1 < argc) {
      n = std::atol(argv[++i]);
    } else {
      std::cerr << "usage: aggregate_memory [--aggregates N]\n";
      return 2;
    }
  }
  if (n <= 0) {
    std::cerr << "aggregate_memory: --aggregates must be positive\n";
    return 2;
  }
  auto rt = es::runtime::start();
  if (!rt) {
    std::cerr << "aggregate_memory: " << es::actors::from_caf(rt.error()).to_string()
              << '\n';
    return 1;
  }
  // Warm up allocator and CAF before the baseline.
  for (int i = 0; i < 1000; ++i)
    (void) (*rt)->inspect<bank::account>("warm-" + std::to_string(i));
  auto before = resident_bytes();
  auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < n; ++i) {
    auto v = (*rt)->inspect<bank::account>("acct-" + std::to_string(i));
    if (!v) {
      std::cerr << "aggregate_memory: "
                << es::actors::from_caf(v.error()).to_string() << '\n';
      return 1;
    }
  }
  auto after = resident_bytes();
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now()
                                            - start)
                .count();
  auto live = (*rt)->live_aggregates();
  std::cout << "aggregate_memory: " << live << " live aggregates, "
            << (after - before) / n << " bytes resident each (state "
            << sizeof(bank::account::state) << " bytes), spawned at "
            << static_cast<long>(n / secs) << "/s\n";
  return 0;
}
