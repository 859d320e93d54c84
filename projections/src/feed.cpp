// Where a projection's events come from: catch-up pages from the readers
// (in order, two at once without a filter), batches from the bus, and news
// of the head; and the plumbing shared with the handler side.
#include "engine.hpp"

#include "es/actors/errors.hpp"

namespace es::projections::detail {

void report(projection_actor* self) {
  auto& st = self->state;
  int64_t cp = -1;
  if (st.in_memory()) {
    cp = st.checkpoint;
    st.reported = cp;
    st.reported_at = std::chrono::steady_clock::now();
  }
  self->send(st.manager, report_msg{st.def->name(), st.phase, st.last_error,
                                    st.error_position, cp});
}

void set_phase(projection_actor* self, projection_state s) {
  if (self->state.phase == s)
    return;
  self->state.phase = s;
  report(self);
}

void schedule_work(projection_actor* self) {
  auto& st = self->state;
  if (st.work_scheduled || st.waiting || st.halted() || st.queue.empty())
    return;
  st.work_scheduled = true;
  self->send(self, work_atom::value);
}

// Queues what `page` adds beyond the queue's end; returns true when it
// reached the head.
bool use_page(projection_actor* self, persistence::feed_page& page) {
  auto& st = self->state;
  auto end = st.queue_end();
  if (page.next_after > end) {
    // The bus may have brought some of these meanwhile: skip those.
    size_t next = 0;
    while (next < page.events.size()
           && page.events[next].global_position <= end)
      ++next;
    st.push(std::make_shared<const event_batch>(std::move(page.events)), next,
            page.next_after);
  }
  if (!page.at_head) {
    st.need_read = true;
    return false;
  }
  // News of a newer head while reading: that page may predate it.
  st.need_read = st.gap_while_reading || st.head_hint > page.next_after;
  st.gap_while_reading = false;
  return true;
}

// Uses the pages that continue the queue, in position order.
void on_pages(projection_actor* self) {
  auto& st = self->state;
  while (!st.arrived.empty() && st.arrived.begin()->first <= st.queue_end()) {
    auto page = std::move(st.arrived.begin()->second);
    st.arrived.erase(st.arrived.begin());
    if (use_page(self, page)) {
      st.drop_reads(); // reads beyond the head: nothing for us
      break;
    }
  }
  if (st.reading == 0)
    st.arrived.clear(); // orphans (the bus moved the queue): read again
  if (st.phase == projection_state::catching_up && st.caught_up())
    set_phase(self, projection_state::live);
  schedule_work(self);
  maybe_read(self);
}

void maybe_read(projection_actor* self) {
  auto& st = self->state;
  if (!st.need_read || st.halted())
    return;
  const auto& filter = st.def->options().filter;
  int most = filter.stream_types.empty() && filter.event_types.empty()
               ? parallel_reads
               : 1;
  if (st.reading == 0)
    st.read_cursor = st.queue_end();
  while (st.reading < most
         && st.queued + st.reading * page_size <= high_water) {
    auto after = st.read_cursor;
    st.read_cursor += static_cast<int64_t>(page_size);
    ++st.reading;
    auto epoch = st.epoch;
    self->request(st.readers, caf::infinite,
                  actors::read_all_msg{after, page_size, filter})
      .then(
        [self, epoch, after](persistence::feed_page& page) {
          auto& st = self->state;
          if (st.epoch != epoch)
            return;
          --st.reading;
          if (st.error_position == 0)
            st.last_error.clear(); // the store is back
          st.arrived.emplace(after, std::move(page));
          on_pages(self);
        },
        [self, epoch](caf::error& err) {
          auto& st = self->state;
          if (st.epoch != epoch)
            return;
          st.drop_reads();
          st.last_error = "reading the store: "
                          + actors::from_caf(err).message();
          self->delayed_send(self, outage_pause(st.def->options()),
                             read_atom::value);
        });
  }
}

selection select(const engine& st, size_t limit) {
  selection out;
  out.reaches = st.checkpoint;
  size_t scanned = 0;
  for (const auto& c : st.queue) {
    for (size_t i = c.next; i < c.events->size(); ++i) {
      const auto& e = (*c.events)[i];
      if (st.def->wants(e))
        out.events.emplace_back(e);
      out.reaches = e.global_position;
      if (out.events.size() >= limit || ++scanned >= 4 * page_size)
        return out;
    }
    out.reaches = c.last;
  }
  return out;
}

void on_bus(projection_actor* self, const batch_ptr& batch) {
  auto& st = self->state;
  if (!batch || batch->empty())
    return;
  auto first = batch->front().global_position;
  auto last = batch->back().global_position;
  auto end = st.queue_end();
  if (last <= end)
    return;
  bool contiguous = last - first + 1 == static_cast<int64_t>(batch->size());
  if (first > end + 1 || !contiguous || st.queued > high_water) {
    // A hole (or no room): the store has these events; read them there.
    st.need_read = true;
    if (st.reading)
      st.gap_while_reading = true;
    maybe_read(self);
    return;
  }
  st.push(batch, static_cast<size_t>(end + 1 - first), last);
  // Nothing else waiting: handle the batch now, not after a message to self.
  if (!st.work_scheduled && self->mailbox().empty())
    work(self);
  else
    schedule_work(self);
}

void on_head(projection_actor* self, int64_t head) {
  auto& st = self->state;
  // The poll brings this every second: an in-memory projection stores the
  // checkpoint it reached since its last report (at most once a second).
  if (st.in_memory() && st.checkpoint != st.reported
      && std::chrono::steady_clock::now() - st.reported_at
           >= std::chrono::seconds{1})
    report(self);
  if (head == 0) {
    st.need_read = true;
    if (st.reading > 0)
      st.gap_while_reading = true;
    maybe_read(self);
    return;
  }
  // The bus usually brings these first: look again after a short delay.
  st.head_hint = std::max(st.head_hint, head);
  if (st.head_hint > st.queue_end() && !st.check_scheduled) {
    st.check_scheduled = true;
    self->delayed_send(self, st.wake_delay, check_atom::value);
  }
}

} // namespace es::projections::detail
