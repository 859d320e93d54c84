#include "es/projections/notifications.hpp"

#include <caf/send.hpp>

#include "es/persistence/postgres_listener.hpp"
#include "es/projections/manager.hpp"

namespace es::projections {

struct notification_pump::impl {
  std::unique_ptr<persistence::postgres_listener> listener;
};

result<std::unique_ptr<notification_pump>>
notification_pump::start(const std::string& url,
                         persistence::postgres_options opts,
                         caf::actor manager) {
  auto listener = persistence::postgres_listener::open(url, std::move(opts));
  if (!listener)
    return listener.error();
  std::unique_ptr<notification_pump> pump{new notification_pump};
  pump->impl_ = std::make_unique<impl>();
  pump->impl_->listener = std::move(*listener);
  pump->manager_ = std::move(manager);
  pump->thread_ = std::thread{[p = pump.get()] { p->run(); }};
  return pump;
}

notification_pump::~notification_pump() {
  stop_ = true;
  impl_->listener->interrupt();
  if (thread_.joinable())
    thread_.join();
}

void notification_pump::run() {
  auto& l = *impl_->listener;
  bool lost = false;
  while (!stop_) {
    auto got = l.wait(std::chrono::milliseconds{200});
    if (!got) {
      lost = true;
      // Do not spin while the database is away.
      for (int i = 0; i < 5 && !stop_; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds{100});
      continue;
    }
    if (lost) {
      lost = false;
      caf::anon_send(manager_, head_msg{0});
    }
    int64_t head = 0;
    for (auto& n : *got) {
      if (n.channel == l.events_channel()) {
        try {
          head = std::max<int64_t>(head, std::stoll(n.payload));
        } catch (const std::exception&) {
          head = std::max<int64_t>(head, 0);
        }
      } else if (n.channel == l.projections_channel()) {
        caf::anon_send(manager_, requested_atom::value, n.payload);
      }
    }
    if (head > 0)
      caf::anon_send(manager_, head_msg{head});
  }
}

} // namespace es::projections
