// The PostgreSQL side of projections: the catalog (`es_projections`,
// `es_dead_letters`) and the read-model writer that applies a batch of
// events and moves the projection's checkpoint in one transaction, so a
// read model never applies an event twice, even across crashes.
//
//   auto rm = postgres_read_model::open(url);
//   auto r = (*rm)->apply("bank_balances", /*from=*/41, /*to=*/57,
//                         [&](pqxx::transaction_base& tx) {
//                           tx.exec_params("UPDATE bank_balances ...", ...);
//                         });
//   if (!r && r.error().code() == ec::conflict) { /* reload checkpoint */ }
//
// Each object owns one connection and serializes its calls on it. Both
// need the schema migrated (they do not migrate it themselves: the store
// does, and `eventsource migrate`).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "es/persistence/postgres_store.hpp"
#include "es/persistence/projection_catalog.hpp"

namespace es::persistence {

class postgres_catalog final : public projection_catalog {
public:
  /// Connects to `url`. Errors: `unavailable` (cannot connect),
  /// `invalid_argument` (schema not migrated to this program's version).
  [[nodiscard]] static result<std::unique_ptr<postgres_catalog>>
  open(const std::string& url, postgres_options opts = {});

  ~postgres_catalog() override;

private:
  result<projection_record> do_register(std::string_view name) override;
  result<std::optional<projection_record>>
  do_find(std::string_view name) override;
  result<std::vector<projection_record>> do_list() override;
  result<void> do_set_state(std::string_view name, projection_state state,
                            const std::string& last_error,
                            int64_t error_position) override;
  result<void> do_set_checkpoint(std::string_view name,
                                 int64_t position) override;
  result<int64_t> do_request(std::string_view name, projection_op op) override;
  result<std::optional<projection_request>>
  do_take_request(std::string_view name) override;
  result<void> do_set_applied(std::string_view name, int64_t id,
                              const std::string& error) override;
  result<int64_t> do_add_dead_letter(const dead_letter& d) override;
  result<std::vector<dead_letter>> do_dead_letters(std::string_view projection,
                                                   size_t limit) override;
  result<std::optional<dead_letter>> do_find_dead_letter(int64_t id) override;
  result<bool> do_remove_dead_letter(int64_t id) override;
  result<dead_letter> do_request_retry(int64_t id) override;
  result<std::vector<int64_t>>
  do_take_retry_requests(std::string_view projection) override;
  result<void> do_retry_failed(int64_t id,
                               const std::string& error) override;

  struct impl;
  explicit postgres_catalog(std::unique_ptr<impl> ptr);
  std::unique_ptr<impl> impl_;
};

/// Writes a projection's read model and checkpoint together.
class postgres_read_model {
public:
  /// The caller's update of its tables, inside the transaction.
  using update_fn = std::function<void(pqxx::transaction_base&)>;

  /// Connects to `url`. Errors as `postgres_catalog::open`.
  [[nodiscard]] static result<std::unique_ptr<postgres_read_model>>
  open(const std::string& url, postgres_options opts = {});

  ~postgres_read_model();

  /// In one transaction: moves the checkpoint of projection `name` from
  /// `from` to `to` (it must be registered), runs `update` (unless empty),
  /// and records `poison` (a dead letter of `name`) when given; a dead
  /// letter already stored for that position is kept. The checkpoint row is locked
  /// first, so concurrent runners of one projection serialize and the
  /// later one finds the checkpoint moved. Errors: `invalid_argument`
  /// (bad name, `from < 0`, `to < from`, bad poison), `conflict` (the stored
  /// checkpoint is not `from`; nothing applied), `unavailable` (the
  /// connection failed, or the database rolled back: serialization
  /// failure, deadlock, statement timeout — also inside `update`; nothing
  /// applied unless the commit itself was cut off, which the next call's
  /// `conflict` reveals), `not_found`. Any other exception thrown by
  /// `update` rolls the transaction back and propagates to the caller.
  [[nodiscard]] result<void> apply(const std::string& name, int64_t from,
                                   int64_t to, const update_fn& update,
                                   const dead_letter* poison = nullptr);

  /// In one transaction: runs `update` for the event of dead letter `id`
  /// and deletes the dead letter (after locking its projection's row, as
  /// `reset` does, so the two never interleave). Errors: `not_found` (no such dead
  /// letter), `unavailable`; exceptions of `update` propagate.
  [[nodiscard]] result<void> redrive(int64_t id, const update_fn& update);

  /// In one transaction: runs `clear` (the projection's reset hook), sets
  /// the checkpoint of `name` to 0 and deletes its dead letters (the
  /// rebuild meets those events again; redriving an old letter afterwards
  /// could apply an event twice). Errors: `not_found`, `unavailable`;
  /// exceptions of `clear` propagate.
  [[nodiscard]] result<void> reset(const std::string& name,
                                   const update_fn& clear);

  /// Returns the stored checkpoint of `name`. Errors: `not_found`.
  [[nodiscard]] result<int64_t> checkpoint(const std::string& name);

private:
  struct impl;
  explicit postgres_read_model(std::unique_ptr<impl> ptr);
  std::unique_ptr<impl> impl_;
};

} // namespace es::persistence
