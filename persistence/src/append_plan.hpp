// The decision part of an append batch, shared by every store: given what
// the store holds for the streams and event ids a batch names, decide per
// request: new events (with versions and positions), an exact retry, or an
// error. The store then writes `writes` atomically, or nothing at all.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "es/persistence/event_store.hpp"

namespace es::persistence::detail {

/// A stream's last version and its type (streams do not change type).
struct stream_head {
  int64_t version = 0;
  std::string stream_type;
};

/// Where a stored event sits.
struct stored_event_ref {
  std::string stream_id;
  int64_t version = 0;
  int64_t position = 0;
  time_point recorded_at;
};

/// One request to write: its events get consecutive versions and positions.
struct planned_write {
  const append_request* request = nullptr;
  int64_t first_version = 0;
  int64_t first_position = 0;
};

struct append_plan {
  std::vector<result<append_result>> results; ///< One per request, in order.
  std::vector<planned_write> writes;          ///< In position order.
  int64_t new_head = 0;                       ///< Head after the writes.
};

/// Decides the batch. `heads` holds the current head of every stream that
/// exists among the requests; `stored` every already-stored event among the
/// requests' ids. `head` is the current global head, `now` the commit time.
append_plan plan_appends(const std::vector<append_request>& requests,
                         int64_t head, time_point now,
                         std::unordered_map<std::string, stream_head> heads,
                         std::unordered_map<uuid, stored_event_ref> stored);

/// Returns the events `requests` wrote, as `results` (one per request)
/// report them, in position order; their event types, payloads and
/// metadata are moved out of the requests. Failed requests and exact
/// retries wrote nothing.
std::shared_ptr<std::vector<recorded_event>>
record_written(std::vector<append_request>& requests,
               const std::vector<result<append_result>>& results);

/// Returns the distinct stream ids named by `requests`.
std::vector<std::string>
requested_streams(const std::vector<append_request>& requests);

/// Returns every event id carried by `requests`.
std::vector<uuid> requested_ids(const std::vector<append_request>& requests);

} // namespace es::persistence::detail
