// Shared by the cluster tests (cluster_test.cpp, cluster_tls_test.cpp):
// members on loopback with free ports, their logs, and waiting for them.
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "account.hpp"
#include "es/actors/errors.hpp"
#include "es/placement.hpp"
#include "es/runtime.hpp"
#include "support/stores.hpp"

namespace cluster_fixture {

using bank::account;
using es::test::eventually;

// An aggregate whose command has no JSON: it cannot cross nodes.
struct tally {
  static constexpr const char* type = "tally";
  struct state {
    int64_t n = 0;
  };
  struct add {
    int64_t by = 1;
  };
  struct added {
    static constexpr const char* type_name = "added";
    int64_t by = 0;
  };
  using command = add;
  using event = std::variant<added>;
  static es::decision<event> execute(const state&, const command& c) {
    return added{c.by};
  }
  static state apply(state s, const event& e) {
    s.n += std::get<added>(e).by;
    return s;
  }
};

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(tally::added, by)

// Lines of a runtime's cluster log, for assertions.
struct log_lines {
  std::mutex mtx;
  std::vector<std::string> lines;

  std::function<void(const std::string&)> sink() {
    return [this](const std::string& line) {
      std::unique_lock guard{mtx};
      lines.push_back(line);
    };
  }

  bool has(const std::string& part) {
    std::unique_lock guard{mtx};
    return std::any_of(lines.begin(), lines.end(), [&](const auto& l) {
      return l.find(part) != std::string::npos;
    });
  }
};

struct member_options {
  std::vector<std::string> peers;
  std::string store_url = "memory:";
  bool host = true;
  log_lines* log = nullptr;
};

// A member on a free port that hosts accounts (unless told otherwise).
inline std::unique_ptr<es::runtime> start_member(member_options mo = {}) {
  es::runtime_options opts;
  opts.store_url = mo.store_url;
  opts.node_port = 0;
  opts.peers = mo.peers;
  opts.failure_timeout = std::chrono::milliseconds{1000};
  if (mo.log)
    opts.cluster_log = mo.log->sink();
  auto rt = es::runtime::start(opts);
  if (!rt)
    throw std::runtime_error(to_string(rt.error()));
  if (mo.host) {
    (*rt)->host<account>();
    (*rt)->host<tally>();
  }
  return std::move(*rt);
}

inline std::string address(es::runtime& rt) {
  return "127.0.0.1:" + std::to_string(rt.node_port());
}

inline size_t member_count(es::runtime& rt) {
  auto all = rt.members();
  return all ? all->size() : 0;
}

// Waits until every runtime sees all of them as members.
inline bool joined(std::initializer_list<es::runtime*> all) {
  return eventually([&] {
    return std::all_of(all.begin(), all.end(), [&](es::runtime* rt) {
      return member_count(*rt) == all.size();
    });
  });
}

// Returns the first id "acct-N" that `owner` owns among `members`.
inline std::string owned_by(const std::string& owner,
                     const std::vector<std::string>& members) {
  for (int i = 1;; ++i) {
    auto id = "acct-" + std::to_string(i);
    if (es::owner_of(es::placement_key("account", id), members) == owner)
      return id;
  }
}

// A port nothing listens on.
inline uint16_t closed_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

inline es::error error_of(const caf::error& err) {
  return es::actors::from_caf(err);
}


} // namespace cluster_fixture
