// Where projections keep what outlives a process: their state, checkpoint,
// last error, the operator requests waiting for a node, and dead letters.
// In PostgreSQL that is the tables `es_projections` and `es_dead_letters`,
// which the CLI reads and writes while nodes run.
//
//   auto catalog = open_catalog("postgresql://es@127.0.0.1/es");
//   auto rec = (*catalog)->register_projection("bank_balances");
//   (void) (*catalog)->request("bank_balances", projection_op::pause);
//   // a running node hears of it (NOTIFY) and calls take_request()
//   for (auto& d : *(*catalog)->dead_letters("bank_balances")) ...
//   (void) (*catalog)->request_retry(7); // the node: take_retry_requests()
//
// Every call is thread-safe. Names are checked here for every
// implementation: empty or longer than 256 bytes is `invalid_argument`.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "es/error.hpp"
#include "es/persistence/event.hpp"

namespace es::persistence {

/// A projection's lifecycle as stored (and shown by the CLI).
enum class projection_state : uint8_t {
  starting,    ///< Registered; not running yet on any node.
  catching_up, ///< Reading the store from its checkpoint.
  live,        ///< Following the event bus.
  paused,      ///< Stopped by an operator; stays paused across restarts.
  failed,      ///< Stopped at a poison event (policy `stop`).
};

/// Returns "starting", "catching_up", "live", "paused" or "failed".
const char* to_string(projection_state s);

/// Parses the names `to_string` returns.
std::optional<projection_state> parse_projection_state(std::string_view s);

/// What an operator asks of a projection.
enum class projection_op : uint8_t {
  pause,   ///< Stop applying events; keep the checkpoint.
  resume,  ///< Leave `paused`.
  reset,   ///< Clear the read model (reset hook) and the checkpoint, then
           ///< stay paused until `resume`.
  rebuild, ///< Reset, then catch up from the first event.
  retry,   ///< Leave `failed`: try the poison event again.
};

/// Returns "pause", "resume", "reset", "rebuild" or "retry".
const char* to_string(projection_op op);

/// Parses the names `to_string` returns.
std::optional<projection_op> parse_projection_op(std::string_view s);

/// One row of `es_projections`.
/// An operator's request as a node takes it.
struct projection_request {
  projection_op op = projection_op::pause;
  int64_t id = 0; ///< Numbers the requests of a projection: 1, 2, 3, ...
};

struct projection_record {
  std::string name;
  projection_state state = projection_state::starting;
  /// Every event up to this global position has been handled.
  int64_t checkpoint = 0;
  /// The error that stopped or last troubled the projection; empty: none.
  std::string last_error;
  /// The global position of the event behind `last_error`; 0: none.
  int64_t error_position = 0;
  /// An operator request no node has taken yet.
  std::optional<projection_op> requested;
  /// The id of the newest request (0: none yet).
  int64_t request_id = 0;
  /// The id of the newest request a node finished applying, and how it
  /// failed (empty: it worked). `applied_id >= id` means request `id` is done.
  int64_t applied_id = 0;
  std::string applied_error;
  time_point updated_at;
};

/// Where an operator's retry of a dead letter stands.
enum class retry_state : uint8_t {
  none,      ///< Not asked for, or the last retry failed (see the error).
  requested, ///< Asked for; no node has taken it yet.
  running,   ///< A node took it and runs it.
};

/// Returns "none", "requested" or "running".
const char* to_string(retry_state s);

/// An event a projection could not handle and set aside (policy
/// `dead_letter`); one row of `es_dead_letters`.
struct dead_letter {
  int64_t id = 0; ///< Assigned by the catalog.
  std::string projection;
  int64_t global_position = 0;
  uuid event_id;
  std::string stream_id;
  std::string event_type;
  std::string error;
  time_point recorded_at; ///< Assigned by the catalog.
  /// An operator's retry of it.
  retry_state retry = retry_state::none;
};

/// Lets CAF serialize a dead letter (the admin actor sends them).
template <class Inspector>
auto inspect(Inspector& f, dead_letter& x) {
  return f(x.id, x.projection, x.global_position, x.event_id, x.stream_id,
           x.event_type, x.error, x.recorded_at, x.retry);
}

/// Returns a dead letter describing `e`, which failed with `error`.
dead_letter make_dead_letter(std::string projection, const recorded_event& e,
                             std::string error);

/// The catalog interface. Implementations: `memory_catalog` (in
/// `memory_store.hpp`) and `postgres_catalog` (in `postgres_catalog.hpp`).
class projection_catalog {
public:
  virtual ~projection_catalog();

  /// Creates the record of `name` (state `starting`, checkpoint 0) unless
  /// it exists. Returns the record as stored.
  [[nodiscard]] result<projection_record>
  register_projection(std::string_view name);

  /// Returns the record of `name`, if registered.
  [[nodiscard]] result<std::optional<projection_record>>
  find(std::string_view name);

  /// Returns every record, ordered by name.
  [[nodiscard]] result<std::vector<projection_record>> list();

  /// Stores the state and error of `name` (not its checkpoint). Bytes of
  /// `last_error` that are not valid UTF-8 (and NULs) are stored as '?'.
  /// Errors: `not_found` (not registered), `invalid_argument` (negative
  /// position).
  [[nodiscard]] result<void> set_state(std::string_view name,
                                       projection_state state,
                                       std::string last_error = {},
                                       int64_t error_position = 0);

  /// Stores the checkpoint of `name` (also a lower one: resets). Errors:
  /// `not_found`, `invalid_argument` (negative).
  [[nodiscard]] result<void> set_checkpoint(std::string_view name,
                                            int64_t position);

  /// Queues `op` for `name` (a newer request replaces an older one) and
  /// wakes the nodes (PostgreSQL: NOTIFY on `<schema>.es_projections` with
  /// the name). Errors: `not_found`.
  /// Returns the request's id, for `applied_id`.
  [[nodiscard]] result<int64_t> request(std::string_view name,
                                        projection_op op);

  /// Returns the queued request of `name` and clears it, atomically: two
  /// callers never both get it. Nothing queued (or not registered): none.
  [[nodiscard]] result<std::optional<projection_request>>
  take_request(std::string_view name);

  /// Records that the node finished request `id` of `name` (`error`: how it
  /// failed; empty: it worked). An older id than the recorded one changes
  /// nothing. Errors: `not_found`, `invalid_argument` (id < 1).
  [[nodiscard]] result<void> set_applied(std::string_view name, int64_t id,
                                         std::string error = {});

  /// Records `d` (its id and time are assigned; it is not marked for a
  /// retry) and returns its id. The same projection and position twice
  /// keeps one row (returns its id). The projection need not be
  /// registered; its error text is cleaned as in `set_state`. Errors:
  /// `invalid_argument` (bad name, position < 1, empty stream id or event
  /// type).
  [[nodiscard]] result<int64_t> add_dead_letter(const dead_letter& d);

  /// Returns up to `limit` (1..10,000) dead letters of `projection` (all
  /// projections when empty), oldest position first.
  [[nodiscard]] result<std::vector<dead_letter>>
  dead_letters(std::string_view projection = {}, size_t limit = 1000);

  /// Returns dead letter `id` (>= 1), if it exists.
  [[nodiscard]] result<std::optional<dead_letter>> find_dead_letter(int64_t id);

  /// Deletes dead letter `id`; returns false when there was none.
  [[nodiscard]] result<bool> remove_dead_letter(int64_t id);

  /// Asks for a retry of dead letter `id` (retry state `requested`, also
  /// when it was `running`: a node gave it back) and wakes the nodes as
  /// `request` does (PostgreSQL: NOTIFY on `<schema>.es_projections` with
  /// the letter's projection name). Returns the letter. Errors:
  /// `invalid_argument` (id < 1), `not_found`.
  [[nodiscard]] result<dead_letter> request_retry(int64_t id);

  /// Returns the ids of `projection`'s dead letters with a retry
  /// `requested`, oldest position first, and sets them `running`,
  /// atomically: two callers never both get an id. A letter that is handled
  /// is removed; one that failed again is released with `retry_failed`.
  /// None requested (or no such projection): empty.
  [[nodiscard]] result<std::vector<int64_t>>
  take_retry_requests(std::string_view projection);

  /// Records that the retry of dead letter `id` failed with `error`: the
  /// letter stays with that error and retry state `none`. Errors:
  /// `invalid_argument` (id < 1), `not_found`.
  [[nodiscard]] result<void> retry_failed(int64_t id, std::string error);

protected:
  projection_catalog() = default;

private:
  // Implementations receive arguments that passed the checks above.
  virtual result<projection_record> do_register(std::string_view name) = 0;
  virtual result<std::optional<projection_record>>
  do_find(std::string_view name) = 0;
  virtual result<std::vector<projection_record>> do_list() = 0;
  virtual result<void> do_set_state(std::string_view name,
                                    projection_state state,
                                    const std::string& last_error,
                                    int64_t error_position)
    = 0;
  virtual result<void> do_set_checkpoint(std::string_view name,
                                         int64_t position)
    = 0;
  virtual result<int64_t> do_request(std::string_view name, projection_op op)
    = 0;
  virtual result<std::optional<projection_request>>
  do_take_request(std::string_view name) = 0;
  virtual result<void> do_set_applied(std::string_view name, int64_t id,
                                      const std::string& error)
    = 0;
  virtual result<int64_t> do_add_dead_letter(const dead_letter& d) = 0;
  virtual result<std::vector<dead_letter>>
  do_dead_letters(std::string_view projection, size_t limit) = 0;
  virtual result<std::optional<dead_letter>> do_find_dead_letter(int64_t id)
    = 0;
  virtual result<bool> do_remove_dead_letter(int64_t id) = 0;
  virtual result<dead_letter> do_request_retry(int64_t id) = 0;
  virtual result<std::vector<int64_t>>
  do_take_retry_requests(std::string_view projection) = 0;
  virtual result<void> do_retry_failed(int64_t id, const std::string& error)
    = 0;
};

/// Opens a catalog by URL, as `open_store` does: "memory:" (a fresh
/// `memory_catalog`) or PostgreSQL (`postgres_catalog::open`, which does not
/// migrate: open the store first, or run `eventsource migrate`). Errors:
/// `invalid_argument` (unknown scheme, schema not migrated), `unavailable`.
[[nodiscard]] result<std::unique_ptr<projection_catalog>>
open_catalog(const std::string& url);

} // namespace es::persistence
