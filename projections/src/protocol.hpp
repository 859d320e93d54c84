// Messages between the manager and its projection actors (private).
#pragma once

#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include "es/persistence/postgres_catalog.hpp"
#include "es/projections/manager.hpp"

namespace es::projections::detail {

/// What a projection actor starts from.
struct projection_setup {
  std::shared_ptr<const projection> def;
  caf::actor readers;
  caf::actor manager;
  /// PostgreSQL kind only: its own connection.
  std::shared_ptr<persistence::postgres_read_model> read_model;
  persistence::projection_record record;
  std::chrono::milliseconds wake_delay{20};
};

/// Projection -> manager: store this status (and, for the in-memory kind,
/// this checkpoint; -1 leaves it).
struct report_msg {
  std::string name;
  projection_state state;
  std::string last_error;
  int64_t error_position = 0;
  int64_t checkpoint = -1;
};

/// Projection -> manager: record this dead letter (in-memory kind).
struct dead_letter_msg {
  dead_letter letter;
};

/// Manager -> projection: run the event of `letter` again. Replies true
/// when the projection removed the dead letter itself.
struct redrive_msg {
  dead_letter letter;
  persistence::recorded_event event;
};

// Projection, to itself.
using work_atom = caf::atom_constant<caf::atom("es_pwork")>;
using retry_atom = caf::atom_constant<caf::atom("es_pretry")>;
using check_atom = caf::atom_constant<caf::atom("es_pcheck")>;
using read_atom = caf::atom_constant<caf::atom("es_pread")>;
// Manager, to itself.
using poll_atom = caf::atom_constant<caf::atom("es_ppoll")>;

/// Spawns a projection actor (detached when asked: it blocks in its read
/// model's transactions).
caf::actor spawn_projection(caf::actor_system& sys, projection_setup setup,
                            bool detached);

} // namespace es::projections::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(es::projections::detail::report_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(es::projections::detail::dead_letter_msg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(es::projections::detail::redrive_msg)
