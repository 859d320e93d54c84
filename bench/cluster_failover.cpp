// cluster_failover: how long an aggregate cannot answer when its owner dies.
//
//   build/bin/cluster_failover --via 127.0.0.1:4710 --owner 127.0.0.1:4712
//       [--seconds 10]
//
// A client of the node at --via picks an account that --owner owns (by the
// cluster's own placement), opens it, then sends it one deposit after the
// other (the next as soon as the last is answered, an error included) for
// --seconds. Meanwhile the caller kills or stops --owner. Prints, as one
// JSON line: the commands, the errors, and the longest time between two
// successful deposits (`gap_ms`: from the last answer before the owner's
// death to the first after it, i.e. detection plus recovery on the new
// owner), and `before_ms`, the longest gap while the owner was fine.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include "account.hpp"
#include "es/placement.hpp"
#include "es/runtime.hpp"

using steady = std::chrono::steady_clock;

int main(int argc, char** argv) {
  std::string via, owner;
  double seconds = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--via")
      via = argv[i + 1];
    else if (flag == "--owner")
      owner = argv[i + 1];
    else if (flag == "--seconds")
      seconds = std::atof(argv[i + 1]);
  }
  if (via.empty() || owner.empty() || seconds <= 0) {
    std::cerr << "usage: cluster_failover --via HOST:PORT --owner HOST:PORT "
                 "[--seconds S]\n";
    return 2;
  }
  es::runtime_options opts;
  opts.via = via;
  opts.request_timeout = std::chrono::milliseconds{5000};
  auto rt = es::runtime::start(opts);
  if (!rt) {
    std::cerr << "cluster_failover: " << to_string(rt.error()) << '\n';
    return 1;
  }
  auto members = (*rt)->members();
  if (!members) {
    std::cerr << "cluster_failover: " << to_string(members.error()) << '\n';
    return 1;
  }
  std::vector<std::string> names;
  for (const auto& m : *members)
    names.push_back(m.address);
  if (std::find(names.begin(), names.end(), owner) == names.end()) {
    std::cerr << "cluster_failover: " << owner << " is not a member\n";
    return 1;
  }
  std::string id;
  for (int i = 1; id.empty(); ++i) {
    auto candidate = "failover-" + std::to_string(i);
    if (es::owner_of(es::placement_key("account", candidate), names) == owner)
      id = candidate;
  }
  (void) (*rt)->execute<bank::account>(id, bank::open_account{"bench"});
  std::cout << "cluster_failover: account " << id << " on " << owner
            << std::endl;
  int64_t commands = 0, errors = 0;
  double gap_ms = 0, before_ms = 0;
  auto start = steady::now();
  auto last_ok = start;
  bool failed_yet = false;
  while (steady::now() - start < std::chrono::duration<double>(seconds)) {
    auto r = (*rt)->execute<bank::account>(id, bank::deposit{1});
    ++commands;
    auto now = steady::now();
    if (!r) {
      ++errors;
      failed_yet = true;
      continue;
    }
    auto gap = std::chrono::duration<double, std::milli>(now - last_ok).count();
    (failed_yet ? gap_ms : before_ms) = std::max(failed_yet ? gap_ms : before_ms,
                                                 gap);
    last_ok = now;
  }
  std::cout << "{\"account\":\"" << id << "\",\"commands\":" << commands
            << ",\"errors\":" << errors << ",\"gap_ms\":" << gap_ms
            << ",\"before_ms\":" << before_ms << "}" << std::endl;
  return 0;
}
