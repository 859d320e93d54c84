// A projection: a named handler that follows the global event feed and keeps
// a read model up to date. Two kinds:
//
//   // In memory: called once per event, in position order.
//   auto totals = projection::in_memory_of<account>("bank_totals",
//     [t](const account::event& e, const recorded_event& r) { t->add(e); });
//
//   // PostgreSQL: called with a transaction and a batch; the runtime moves
//   // the checkpoint in the same transaction (exactly once).
//   auto balances = projection::postgres_of<account>("bank_balances",
//     [](pqxx::transaction_base& tx, const std::vector<decoded<account>>& b) {
//       for (auto& d : b) tx.exec_params("UPDATE ...", d.record.stream_id);
//     })
//     .on_reset([](pqxx::transaction_base& tx) { tx.exec("TRUNCATE ..."); });
//
//   rt->add_projection(std::move(balances));
//
// A handler fails by throwing. The runtime retries it with exponential
// backoff, then applies the policy: `stop` (the projection fails and waits
// for an operator's `retry`) or `dead_letter` (the event is set aside in
// `es_dead_letters` and the projection goes on). An event that cannot be
// decoded is not retried. Handlers run on the projection's own actor: one
// call at a time, never concurrently with the reset hook.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "es/actors/aggregate_model.hpp"
#include "es/persistence/event_store.hpp"

namespace pqxx {
class transaction_base;
} // namespace pqxx

namespace es::projections {

using persistence::feed_filter;
using persistence::recorded_event;

/// What happens to an event whose handler still fails after the retries.
enum class error_policy : uint8_t {
  stop,        ///< The projection fails; an operator retries it.
  dead_letter, ///< Record it in `es_dead_letters`; go on.
};

/// How a projection runs. Defaults suit most read models.
struct projection_options {
  /// The events it handles; others only move its checkpoint.
  feed_filter filter;
  /// Most events per handler batch (one transaction for PostgreSQL).
  size_t batch_size = 500;
  /// Retries of a failing event before the policy applies.
  int max_retries = 3;
  /// Delay before the first retry; it doubles up to `max_backoff`.
  std::chrono::milliseconds backoff{100};
  std::chrono::milliseconds max_backoff{10'000};
  error_policy on_error = error_policy::stop;
  /// In-memory kind: store the checkpoint (for status and restarts) after
  /// this many events. PostgreSQL read models store it with every batch.
  size_t checkpoint_every = 1000;
  /// In-memory kind: on start, resume from the stored checkpoint (for
  /// handlers with durable side effects: at least once). By default an
  /// in-memory read model starts from the first event in each process.
  bool resume_from_checkpoint = false;
};

/// Thrown by a handler (or the typed wrappers) for an event that no retry
/// can fix, e.g. one that cannot be decoded: the policy applies at once.
class poison_event : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// An event of aggregate type `A`, decoded, with its stored record.
template <class A>
struct decoded {
  typename A::event event;
  const recorded_event& record;
};

/// The events of one batch, in position order.
using event_refs = std::vector<std::reference_wrapper<const recorded_event>>;

class projection {
public:
  enum class kind : uint8_t { in_memory, postgres };

  using event_handler = std::function<void(const recorded_event&)>;
  using batch_handler
    = std::function<void(pqxx::transaction_base&, const event_refs&)>;
  using memory_reset = std::function<void()>;
  using postgres_reset = std::function<void(pqxx::transaction_base&)>;

  /// Returns an in-memory projection: `handle` runs once per event.
  static projection in_memory(std::string name, event_handler handle,
                              projection_options opts = {});

  /// Returns a PostgreSQL read model: `handle` runs inside the transaction
  /// that also moves the checkpoint. Needs a PostgreSQL store.
  static projection postgres(std::string name, batch_handler handle,
                             projection_options opts = {});

  /// Like `in_memory`, for the events of aggregate type `A`, decoded (with
  /// A's upcasters): `handle(const A::event&, const recorded_event&)`. The
  /// filter defaults to A's stream type.
  template <class A, class F>
  static projection in_memory_of(std::string name, F handle,
                                 projection_options opts = {}) {
    default_filter<A>(opts);
    return in_memory(std::move(name),
                     [handle = std::move(handle)](const recorded_event& r) {
                       handle(decode<A>(r), r);
                     },
                     std::move(opts));
  }

  /// Like `postgres`, for the events of aggregate type `A`, decoded:
  /// `handle(pqxx::transaction_base&, const std::vector<decoded<A>>&)`.
  template <class A, class F>
  static projection postgres_of(std::string name, F handle,
                                projection_options opts = {}) {
    default_filter<A>(opts);
    return postgres(std::move(name),
                    [handle = std::move(handle)](pqxx::transaction_base& tx,
                                                 const event_refs& batch) {
                      std::vector<decoded<A>> typed;
                      typed.reserve(batch.size());
                      for (const recorded_event& r : batch)
                        typed.push_back(decoded<A>{decode<A>(r), r});
                      handle(tx, typed);
                    },
                    std::move(opts));
  }

  /// Sets what a reset or rebuild clears (in-memory kind).
  projection& on_reset(memory_reset fn);

  /// Sets what a reset or rebuild clears, inside the transaction that also
  /// sets the checkpoint to 0 (PostgreSQL kind).
  projection& on_reset(postgres_reset fn);

  const std::string& name() const noexcept {
    return name_;
  }

  kind what() const noexcept {
    return kind_;
  }

  const projection_options& options() const noexcept {
    return opts_;
  }

  const event_handler& memory_handler() const noexcept {
    return on_event_;
  }

  const batch_handler& postgres_handler() const noexcept {
    return on_batch_;
  }

  const memory_reset& memory_reset_hook() const noexcept {
    return reset_memory_;
  }

  const postgres_reset& postgres_reset_hook() const noexcept {
    return reset_postgres_;
  }

  /// Returns true when `e` passes the filter.
  bool wants(const recorded_event& e) const;

private:
  projection() = default;

  template <class A>
  static void default_filter(projection_options& opts) {
    if (opts.filter.stream_types.empty() && opts.filter.event_types.empty())
      opts.filter.stream_types.emplace_back(A::type);
  }

  template <class A>
  static typename A::event decode(const recorded_event& r) {
    auto ev = actors::model_of<A>().registry().template decode<
      typename A::event>(r);
    if (!ev)
      throw poison_event{ev.error().message()};
    return std::move(*ev);
  }

  std::string name_;
  kind kind_ = kind::in_memory;
  projection_options opts_;
  event_handler on_event_;
  batch_handler on_batch_;
  memory_reset reset_memory_;
  postgres_reset reset_postgres_;
};

} // namespace es::projections
