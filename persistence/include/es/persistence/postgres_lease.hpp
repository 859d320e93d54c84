// Leases: at most one holder among all processes for a named piece of work
// (e.g. "projection:bank_balances"), as PostgreSQL session-level advisory
// locks on a connection of the lease's own, the way Commanded and Marten
// elect the one node that runs a projection. A lease goes with its
// connection: when the holder dies or loses the database, another
// process's `try_acquire` succeeds.
//
//   auto leases = postgres_lease::open(url, opts);
//   if (*(*leases)->try_acquire("projection:bank_balances")) start();
//   // every poll: a connection lost means every lease is gone
//   if (!(*leases)->check()) stop_all();
//
// Names are hashed to 32 bits per schema: two names may collide, and then
// never run at once on two different processes (harmless, rare). Not
// thread-safe: one owner calls it.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "es/persistence/postgres_store.hpp"

namespace es::persistence {

class postgres_lease {
public:
  /// Connects to `url` (`opts.schema` scopes the names). Errors:
  /// `unavailable`.
  [[nodiscard]] static result<std::unique_ptr<postgres_lease>>
  open(const std::string& url, postgres_options opts = {});

  /// Closes the connection: every lease held here is released.
  ~postgres_lease();

  /// Takes lease `name` unless another session holds it; returns whether
  /// this object holds it (true also when it already did). Errors:
  /// `invalid_argument` (empty name), `unavailable` (the connection was
  /// lost: every lease held here is gone; the next call reconnects).
  [[nodiscard]] result<bool> try_acquire(std::string_view name);

  /// Gives lease `name` up (nothing when not held). Errors: `unavailable`
  /// (as above: then nothing is held anyway).
  [[nodiscard]] result<void> release(std::string_view name);

  /// Verifies that the connection, and so every lease held, is still
  /// there. Errors: `unavailable`: the leases are gone (`held()` is empty);
  /// stop the work they guarded.
  [[nodiscard]] result<void> check();

  /// Returns the names held, as far as this object knows.
  const std::set<std::string, std::less<>>& held() const;

private:
  struct impl;

  explicit postgres_lease(std::unique_ptr<impl> ptr);

  std::unique_ptr<impl> impl_;
};

} // namespace es::persistence
