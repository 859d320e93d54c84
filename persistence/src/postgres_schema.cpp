// The PostgreSQL schema as an ordered list of migrations. Never edit an
// applied migration: add a new one at the end.
#include "postgres_detail.hpp"

namespace es::persistence::detail {

namespace {

struct migration {
  int version;
  const char* name;
  const char* sql;
};

const migration migrations[] = {
  {1, "events, head, snapshots, checkpoints", R"sql(
CREATE TABLE es_events (
  global_position bigint PRIMARY KEY,
  event_id uuid NOT NULL UNIQUE,
  stream_id text NOT NULL,
  stream_type text NOT NULL,
  version bigint NOT NULL,
  event_type text NOT NULL,
  schema_version int NOT NULL DEFAULT 1,
  payload jsonb NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{}',
  recorded_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (stream_id, version)
);
-- The head position: writers lock this one row for the rest of their
-- transaction, which makes global positions gapless and commit-ordered.
CREATE TABLE es_head (
  id int PRIMARY KEY CHECK (id = 1),
  position bigint NOT NULL
);
INSERT INTO es_head VALUES (1, 0);
CREATE TABLE es_snapshots (
  stream_id text PRIMARY KEY,
  stream_type text NOT NULL,
  version bigint NOT NULL,
  schema_version int NOT NULL,
  state jsonb NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX es_snapshots_stream_type ON es_snapshots (stream_type);
CREATE TABLE es_checkpoints (
  name text PRIMARY KEY,
  position bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
)sql"},
  {2, "projections and dead letters", R"sql(
CREATE TABLE es_projections (
  name text PRIMARY KEY,
  state text NOT NULL DEFAULT 'starting' CHECK (state IN
    ('starting', 'catching_up', 'live', 'paused', 'failed')),
  checkpoint bigint NOT NULL DEFAULT 0 CHECK (checkpoint >= 0),
  last_error text NOT NULL DEFAULT '',
  error_position bigint NOT NULL DEFAULT 0,
  -- An operator request no node has applied yet; NULL: none.
  requested text CHECK (requested IN
    ('pause', 'resume', 'reset', 'rebuild', 'retry')),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE es_dead_letters (
  id bigserial PRIMARY KEY,
  projection text NOT NULL,
  global_position bigint NOT NULL,
  event_id uuid NOT NULL,
  stream_id text NOT NULL,
  event_type text NOT NULL,
  error text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (projection, global_position)
);
)sql"},
  {3, "operator request ids, dead letter retry requests", R"sql(
-- An operator's retry of this letter: requested, running (a node took it),
-- or NULL (none, or it failed again: see error).
ALTER TABLE es_dead_letters ADD COLUMN retry text
  CHECK (retry IN ('requested', 'running'));
-- Requests are numbered; a node records the newest one it finished (and
-- how it failed), so that the CLI can wait for it.
ALTER TABLE es_projections
  ADD COLUMN request_id bigint NOT NULL DEFAULT 0,
  ADD COLUMN applied_id bigint NOT NULL DEFAULT 0,
  ADD COLUMN applied_error text NOT NULL DEFAULT '';
)sql"},
};

} // namespace

int pg_schema_version() {
  return std::end(migrations)[-1].version;
}

result<std::vector<migration_info>>
pg_migrate(pqxx::connection& conn, const postgres_options& opts, bool dry_run,
           bool apply) {
  pqxx::work txn{conn};
  // One migrator at a time per schema, across processes.
  auto schema = opts.schema.empty() ? std::string{"public"} : opts.schema;
  txn.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))",
                  "es_migrations:" + schema);
  if (!opts.schema.empty())
    txn.exec("CREATE SCHEMA IF NOT EXISTS " + txn.quote_name(opts.schema));
  txn.exec("CREATE TABLE IF NOT EXISTS es_schema_migrations ("
           " version int PRIMARY KEY, name text NOT NULL,"
           " applied_at timestamptz NOT NULL DEFAULT now())");
  auto current = txn.exec1("SELECT coalesce(max(version), 0)"
                           " FROM es_schema_migrations")[0]
                   .as<int>();
  if (current > pg_schema_version())
    return {ec::invalid_argument,
            "the database schema is at version " + std::to_string(current)
              + ", newer than this program (" + std::to_string(pg_schema_version())
              + "): upgrade the program"};
  std::vector<migration_info> pending;
  for (const auto& m : migrations)
    if (m.version > current)
      pending.push_back({m.version, m.name});
  if (dry_run || pending.empty())
    return pending;
  if (!apply)
    return {ec::invalid_argument,
            "the database schema is at version " + std::to_string(current)
              + ", this program needs " + std::to_string(pg_schema_version())
              + ": run `eventsource migrate`"};
  for (const auto& m : migrations) {
    if (m.version <= current)
      continue;
    txn.exec(m.sql);
    txn.exec_params("INSERT INTO es_schema_migrations (version, name)"
                    " VALUES ($1, $2)",
                    m.version, std::string{m.name});
  }
  txn.commit();
  return pending;
}

result<void> pg_require_schema(pqxx::connection& conn,
                               const postgres_options& opts) {
  // pg_migrate with apply == false never commits: whatever it creates on the
  // way (schema, migrations table) is rolled back.
  auto pending = pg_migrate(conn, opts, false, false);
  if (!pending)
    return pending.error();
  return {};
}

} // namespace es::persistence::detail
