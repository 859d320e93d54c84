// Projections over the actor fixture: a store the test holds (so it can
// write "behind the bus", as another process would), a memory catalog and
// a manager on CAF's test scheduler.
//
//   es::test::projection_fixture fx;
//   auto seen = fx.add_recorder("p");          // records handled positions
//   fx.append_direct("acct-1", 3);             // 3 events, no bus message
//   fx.wake();                                 // as a NOTIFY would
//   EXPECT_EQ(*seen, (std::vector<int64_t>{1, 2, 3}));
#pragma once

#include <memory>
#include <set>
#include <vector>

#include "account.hpp"
#include "actors/fixture.hpp"
#include "es/persistence/memory_store.hpp"
#include "es/projections/manager.hpp"

namespace es::test {

/// What a recording projection saw, and how it should fail.
struct recorder {
  std::vector<int64_t> positions;
  /// The handler throws for these positions while `failing` is true.
  std::set<int64_t> fail_at;
  bool failing = true;
  int calls = 0;
  int resets = 0;
  /// The reset hook throws while this is true.
  bool reset_fails = false;
};

class projection_fixture {
public:
  projection_fixture();
  ~projection_fixture();

  actor_fixture& fx() {
    return fx_;
  }

  persistence::memory_catalog& catalog() {
    return *catalog_;
  }

  const caf::actor& manager() const {
    return manager_;
  }

  /// Adds a projection that records positions (all events by default).
  std::shared_ptr<recorder> add_recorder(const std::string& name,
                                         projections::projection_options
                                           opts = {});

  /// Adds `p`; returns the manager's answer.
  caf::expected<void> add(projections::projection p);

  /// Appends `n` deposits to `stream` straight into the store: no bus
  /// message (as another process, or a lost message). Returns the head.
  int64_t append_direct(const std::string& stream, int n);

  /// Appends `n` deposits through the aggregate actors (bus included).
  void deposit(const std::string& id, int n);

  /// Tells the manager the head moved (as a NOTIFY does) and lets the
  /// projections' wake delay pass.
  void wake(int64_t head = 0);

  /// Fires every pending timer once (retries, wake checks, the poll) and
  /// runs what they started.
  void tick();

  caf::expected<std::vector<projections::projection_status>> status();
  projections::projection_status status(const std::string& name);
  caf::expected<void> control(const std::string& name,
                              persistence::projection_op op);

  /// Sends a request to the manager and returns its reply (after running).
  template <class T, class... Ts>
  caf::expected<T> ask(Ts&&... xs) {
    caf::scoped_actor self{fx_.sys()};
    auto h = self->request(manager_, client_timeout, std::forward<Ts>(xs)...);
    fx_.sched().run();
    return take<T>(h);
  }

private:
  actor_fixture fx_;
  std::shared_ptr<persistence::memory_catalog> catalog_;
  caf::actor manager_;
};

} // namespace es::test
