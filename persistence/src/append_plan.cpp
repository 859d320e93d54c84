#include "append_plan.hpp"

#include <unordered_set>

namespace es::persistence::detail {

namespace {

result<append_result> conflict(std::string message) {
  return {ec::conflict, std::move(message)};
}

// Returns the original result when `req` repeats an earlier append exactly,
// or a conflict when its ids are stored but not as that append's.
result<append_result>
retry_result(const append_request& req,
             const std::unordered_map<uuid, stored_event_ref>& stored) {
  const auto& first = stored.at(req.events.front().event_id);
  for (size_t i = 0; i < req.events.size(); ++i) {
    const auto& ref = stored.at(req.events[i].event_id);
    auto k = static_cast<int64_t>(i);
    if (ref.stream_id != req.stream_id || ref.version != first.version + k
        || ref.position != first.position + k)
      return conflict("event " + req.events[i].event_id.to_string()
                      + " is already stored in stream '" + ref.stream_id
                      + "' at version " + std::to_string(ref.version)
                      + ", not as part of this append");
  }
  const auto& last = stored.at(req.events.back().event_id);
  return append_result{last.version, first.position, last.position,
                       first.recorded_at, true};
}

} // namespace

append_plan plan_appends(const std::vector<append_request>& requests,
                         int64_t head, time_point now,
                         std::unordered_map<std::string, stream_head> heads,
                         std::unordered_map<uuid, stored_event_ref> stored) {
  append_plan plan;
  plan.results.reserve(requests.size());
  plan.writes.reserve(requests.size());
  for (const auto& req : requests) {
    size_t known = 0;
    for (const auto& e : req.events)
      known += stored.count(e.event_id);
    if (known == req.events.size()) {
      plan.results.push_back(retry_result(req, stored));
      continue;
    }
    if (known > 0) {
      plan.results.push_back(
        conflict(std::to_string(known) + " of the "
                 + std::to_string(req.events.size())
                 + " events are already stored: a partial retry"));
      continue;
    }
    auto& h = heads[req.stream_id];
    if (h.version > 0 && h.stream_type != req.stream_type) {
      plan.results.push_back(result<append_result>{
        ec::invalid_argument, "stream '" + req.stream_id + "' has type '"
                                + h.stream_type + "', not '" + req.stream_type
                                + "'"});
      continue;
    }
    if (!req.expected.matches(h.version)) {
      plan.results.push_back(
        conflict("stream '" + req.stream_id + "' is at version "
                 + std::to_string(h.version) + ", expected "
                 + req.expected.to_string()));
      continue;
    }
    auto n = static_cast<int64_t>(req.events.size());
    planned_write w{&req, h.version + 1, head + 1};
    for (int64_t i = 0; i < n; ++i)
      stored.emplace(req.events[i].event_id,
                     stored_event_ref{req.stream_id, w.first_version + i,
                                      w.first_position + i, now});
    h.version += n;
    h.stream_type = req.stream_type;
    head += n;
    plan.writes.push_back(w);
    plan.results.push_back(
      append_result{h.version, w.first_position, head, now, false});
  }
  plan.new_head = head;
  return plan;
}

std::vector<std::string>
requested_streams(const std::vector<append_request>& requests) {
  std::vector<std::string> out;
  std::unordered_set<std::string_view> seen;
  for (const auto& req : requests)
    if (seen.insert(req.stream_id).second)
      out.push_back(req.stream_id);
  return out;
}

std::vector<uuid> requested_ids(const std::vector<append_request>& requests) {
  std::vector<uuid> out;
  for (const auto& req : requests)
    for (const auto& e : req.events)
      out.push_back(e.event_id);
  return out;
}

std::shared_ptr<std::vector<recorded_event>>
record_written(std::vector<append_request>& requests,
               const std::vector<result<append_result>>& results) {
  auto events = std::make_shared<std::vector<recorded_event>>();
  size_t count = 0;
  for (const auto& r : results)
    if (r && !r->duplicate)
      count += static_cast<size_t>(r->last_position - r->first_position + 1);
  events->reserve(count);
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto& r = results[i];
    if (!r || r->duplicate)
      continue;
    auto& req = requests[i];
    auto version = r->version - static_cast<int64_t>(req.events.size()) + 1;
    auto position = r->first_position;
    for (auto& e : req.events)
      events->push_back(recorded_event{
        position++, e.event_id, req.stream_id, req.stream_type, version++,
        std::move(e.event_type), e.schema_version, std::move(e.payload),
        std::move(e.metadata), r->recorded_at});
  }
  // Requests are written in order, so positions already ascend.
  return events;
}

} // namespace es::persistence::detail
