// The read-model writer: the caller's update, the checkpoint and a dead
// letter commit in one transaction (DESIGN.md invariant 6).
//
// The caller's update may throw. A lost connection becomes `unavailable`
// like any of our own statements; every other exception is the caller's
// business: the transaction rolls back and the exception reaches the caller
// unchanged.
#include "es/persistence/postgres_catalog.hpp"

#include <exception>

#include "postgres_detail.hpp"
#include "validate.hpp"

namespace es::persistence {

namespace {

void prepare_statements(pqxx::connection& c) {
  detail::pg_prepare_catalog(c);
  c.prepare("rm_move", "UPDATE es_projections SET checkpoint = $3,"
                       " updated_at = now() WHERE name = $1 AND checkpoint = $2");
  c.prepare("rm_checkpoint",
            "SELECT checkpoint FROM es_projections WHERE name = $1");
  c.prepare("rm_lock",
            "SELECT checkpoint FROM es_projections WHERE name = $1 FOR UPDATE");
  c.prepare("rm_reset", "UPDATE es_projections SET checkpoint = 0,"
                        " updated_at = now() WHERE name = $1");
  c.prepare("rm_drop_letters",
            "DELETE FROM es_dead_letters WHERE projection = $1");
  c.prepare("rm_dead_letter",
            "INSERT INTO es_dead_letters (projection, global_position,"
            " event_id, stream_id, event_type, error)"
            " VALUES ($1, $2, $3::uuid, $4, $5, $6)"
            " ON CONFLICT (projection, global_position) DO NOTHING");
  c.prepare("rm_lock_letter",
            "SELECT id FROM es_dead_letters WHERE id = $1 FOR UPDATE");
  c.prepare("rm_letter_projection",
            "SELECT projection FROM es_dead_letters WHERE id = $1");
}

es::error not_registered(const std::string& name) {
  return {ec::not_found, "projection '" + name + "' is not registered"};
}

es::error invalid(std::string message) {
  return {ec::invalid_argument, std::move(message)};
}

// Runs the caller's `update` (when given). Returns false when it threw
// something of its own, kept in `thrown` for rethrowing once the
// transaction has rolled back. The database's transient failures (a lost
// connection, a serialization failure or deadlock, a statement timeout) are
// rethrown at once, for pg_session::run to report as `unavailable`: the
// same events succeed later, they are not the handler's fault.
bool run_update(const postgres_read_model::update_fn& update,
                pqxx::transaction_base& txn, std::exception_ptr& thrown) {
  try {
    if (update)
      update(txn);
    return true;
  } catch (const pqxx::transaction_rollback&) {
    throw; // serialization failure, deadlock: the database's, retry later
  } catch (const std::exception& ex) {
    auto sql = dynamic_cast<const pqxx::sql_error*>(&ex);
    if (detail::pg_connection_lost(ex)
        || (sql && sql->sqlstate() == "57014")) // statement/lock timeout
      throw;
    thrown = std::current_exception();
  } catch (...) {
    thrown = std::current_exception();
  }
  return false;
}

} // namespace

struct postgres_read_model::impl {
  impl(std::string url, postgres_options opts)
    : session(std::move(url), std::move(opts), prepare_statements) {
    // nop
  }

  // Runs `f(txn, thrown)` in a transaction on the session (see run_update)
  // and rethrows what the caller's update threw.
  template <class F>
  result<void> transact(F&& f) {
    std::exception_ptr thrown;
    auto r = session.run<void>([&](pqxx::connection& c) -> result<void> {
      pqxx::work txn{c};
      if (auto err = f(txn, thrown))
        return err; // the destructor of txn rolls back
      if (thrown)
        return {};
      txn.commit();
      return {};
    });
    if (thrown)
      std::rethrow_exception(thrown);
    return r;
  }

  detail::pg_session session;
};

postgres_read_model::postgres_read_model(std::unique_ptr<impl> ptr)
  : impl_(std::move(ptr)) {
  // nop
}

postgres_read_model::~postgres_read_model() {
  // nop
}

result<std::unique_ptr<postgres_read_model>>
postgres_read_model::open(const std::string& url, postgres_options opts) {
  auto ptr = std::make_unique<impl>(url, std::move(opts));
  auto checked = ptr->session.require_schema();
  if (!checked)
    return checked.error();
  return std::unique_ptr<postgres_read_model>{
    new postgres_read_model(std::move(ptr))};
}

result<void> postgres_read_model::apply(const std::string& name, int64_t from,
                                        int64_t to, const update_fn& update,
                                        const dead_letter* poison) {
  if (auto err = detail::check_projection_name(name))
    return err;
  if (from < 0 || to < from)
    return invalid("cannot move the checkpoint of '" + name + "' from "
                   + std::to_string(from) + " to " + std::to_string(to));
  if (poison) {
    if (auto err = detail::check_dead_letter(*poison))
      return err;
    if (poison->projection != name)
      return invalid("the dead letter belongs to '" + poison->projection
                     + "', not to '" + name + "'");
  }
  return impl_->transact([&](pqxx::work& txn, std::exception_ptr& thrown) {
    // First, so that the row lock serializes runners of one projection.
    if (txn.exec_prepared("rm_move", name, from, to).affected_rows() == 0) {
      auto rows = txn.exec_prepared("rm_checkpoint", name);
      if (rows.empty())
        return not_registered(name);
      return es::error{ec::conflict,
                       "projection '" + name + "' is at checkpoint "
                         + rows[0][0].as<std::string>() + ", expected "
                         + std::to_string(from)};
    }
    if (!run_update(update, txn, thrown))
      return es::error{};
    if (poison)
      txn.exec_prepared("rm_dead_letter", name, poison->global_position,
                        poison->event_id.to_string(), poison->stream_id,
                        poison->event_type, detail::clean_text(poison->error));
    return es::error{};
  });
}

result<void> postgres_read_model::redrive(int64_t id, const update_fn& update) {
  if (id < 1)
    return invalid("dead letter id must be >= 1, got " + std::to_string(id));
  return impl_->transact([&](pqxx::work& txn, std::exception_ptr& thrown) {
    auto missing = es::error{ec::not_found,
                             "no dead letter " + std::to_string(id)};
    auto owner = txn.exec_prepared("rm_letter_projection", id);
    if (owner.empty())
      return missing;
    // The projection's row first, as reset takes it: a redrive and a reset
    // of the same projection run one after the other, never interleaved.
    txn.exec_prepared("rm_lock", owner[0][0].as<std::string>());
    if (txn.exec_prepared("rm_lock_letter", id).empty())
      return missing;
    if (!run_update(update, txn, thrown))
      return es::error{};
    txn.exec_prepared("cat_remove_dead_letter", id);
    return es::error{};
  });
}

result<void> postgres_read_model::reset(const std::string& name,
                                        const update_fn& clear) {
  if (auto err = detail::check_projection_name(name))
    return err;
  return impl_->transact([&](pqxx::work& txn, std::exception_ptr& thrown) {
    if (txn.exec_prepared("rm_lock", name).empty())
      return not_registered(name);
    if (!run_update(clear, txn, thrown))
      return es::error{};
    txn.exec_prepared("rm_reset", name);
    // The cleared read model will see those events again; a later redrive
    // of an old dead letter could apply one twice.
    txn.exec_prepared("rm_drop_letters", name);
    return es::error{};
  });
}

result<int64_t> postgres_read_model::checkpoint(const std::string& name) {
  if (auto err = detail::check_projection_name(name))
    return err;
  return impl_->session.run<int64_t>([&](pqxx::connection& c) -> result<int64_t> {
    pqxx::read_transaction txn{c};
    auto rows = txn.exec_prepared("rm_checkpoint", name);
    if (rows.empty())
      return not_registered(name);
    return rows[0][0].as<int64_t>();
  });
}

} // namespace es::persistence
