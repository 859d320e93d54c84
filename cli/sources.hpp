// Where the projection and dead-letter commands read and send: the database
// (the projection catalog; running nodes pick requests up through NOTIFY)
// or one running node (`--node HOST:PORT`, its admin actor over CAF
// networking; it applies requests before it answers).
//
//   auto src = open_source(ctx);                 // by --node / --db
//   if (!src) return ctx.fail("...", src.error());
//   auto all = (*src)->list();
//   auto ticket = (*src)->request("bank_balances", projection_op::pause);
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "es/error.hpp"
#include "es/persistence/projection_catalog.hpp"
#include "output.hpp"

namespace es {
class node_client;
} // namespace es

namespace es::cli {

using es::persistence::dead_letter;
using es::persistence::projection_op;
using es::persistence::projection_state;

/// A projection as a source sees it. Unknown numbers are -1, unknown
/// texts empty.
struct projection_view {
  std::string name;
  std::string kind;  ///< "in_memory" or "postgres"; empty: unknown
  projection_state state = projection_state::starting;
  int64_t checkpoint = 0;
  int64_t head = -1;
  int64_t lag = -1;
  double events_per_second = -1;
  std::string last_error;
  int64_t error_position = 0;
  std::optional<projection_op> requested; ///< queued, not yet taken
  int64_t request_id = 0;     ///< the newest request
  int64_t applied_id = 0;     ///< the last request a node finished
  std::string applied_error;  ///< how that request failed; empty: it did not
  std::string updated_at;     ///< ISO 8601; empty: unknown
  bool standby = false;       ///< another node runs it (--node only)
};

/// Returns the view as the JSON object `--json` prints.
json view_json(const projection_view& v);

class source {
public:
  virtual ~source() = default;

  /// Returns "the database" or "node HOST:PORT".
  virtual std::string where() const = 0;

  /// Returns every projection, ordered by name.
  virtual result<std::vector<projection_view>> list() = 0;

  /// Returns projection `name`, if there is one.
  result<std::optional<projection_view>> find(const std::string& name);

  /// Sends `op` for `name`; returns the request's ticket: wait until a
  /// view's `applied_id` reaches it (a node applies it before it answers:
  /// ticket 0). Errors: `not_found`, `unavailable`.
  virtual result<int64_t> request(const std::string& name,
                                  projection_op op) = 0;

  /// Returns the dead letters of `projection` (all when empty).
  virtual result<std::vector<dead_letter>>
  dead_letters(const std::string& projection) = 0;

  /// Returns dead letter `id`, if there is one.
  virtual result<std::optional<dead_letter>> find_letter(int64_t id) = 0;

  /// Retries dead letter `id`: the database queues it (returns true: wait
  /// for a node); a node runs it before it answers (returns false).
  virtual result<bool> retry(int64_t id) = 0;

  /// Deletes dead letter `id`; returns false when there was none.
  virtual result<bool> discard(int64_t id) = 0;
};

/// Connects to the node of `ctx.node` (HOST:PORT, already validated).
result<std::unique_ptr<node_client>>
connect_node(const context& ctx,
             std::chrono::seconds timeout = std::chrono::seconds{30});

/// Opens the node of `ctx.node` when set (whose replies may take up to
/// `timeout`: a rebuild's reset runs before the node answers), else the
/// database of `ctx.url`.
result<std::unique_ptr<source>>
open_source(const context& ctx,
             std::chrono::seconds timeout = std::chrono::seconds{30});

} // namespace es::cli
