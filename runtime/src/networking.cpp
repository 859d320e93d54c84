// The node's networking pieces that are not the node actor: the shared
// cluster view, TLS and middleman set-up, message types, addresses and the
// bounded reachability probe (private to the runtime library).
#include "node.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>

#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "es/actors/aggregate_model.hpp"
#include "es/actors/errors.hpp"
#include "es/actors/messages.hpp"
#include "es/cluster.hpp"
#include "es/placement.hpp"
#include "es/projections/manager.hpp"
#include "wire.hpp"

namespace es::detail {

// -- cluster_view ---------------------------------------------------------------

std::string cluster_view::owner(std::string_view type,
                                std::string_view id) const {
  auto key = placement_key(type, id);
  std::unique_lock guard{mtx_};
  return owner_of(key, members_);
}

void cluster_view::set_members(std::vector<std::string> members) {
  std::sort(members.begin(), members.end());
  std::unique_lock guard{mtx_};
  members_ = std::move(members);
}

std::vector<std::string> cluster_view::members() const {
  std::unique_lock guard{mtx_};
  return members_;
}

void cluster_view::host(const actors::aggregate_model& model) {
  std::unique_lock guard{mtx_};
  models_.emplace(model.type(), &model);
}

const actors::aggregate_model*
cluster_view::model(const std::string& type) const {
  std::unique_lock guard{mtx_};
  auto i = models_.find(type);
  return i == models_.end() ? nullptr : i->second;
}

// -- networking -------------------------------------------------------------------

es::error check_tls(const tls_files& tls) {
  if (!tls.enabled())
    return {};
  std::pair<const char*, const std::string*> files[] = {
    {"certificate", &tls.certificate}, {"key", &tls.key}, {"CA", &tls.ca}};
  for (auto [what, path] : files) {
    if (path->empty())
      return {ec::invalid_argument,
              std::string{"TLS needs a certificate, its key and the CA: the "}
                + what + " is missing"};
    if (!std::ifstream{*path})
      return {ec::invalid_argument,
              std::string{"cannot read the TLS "} + what + " " + *path};
  }
  return {};
}

bool openssl_error_queue_cleared(); // openssl_error_queue.cpp

void use_networking(caf::actor_system_config& cfg, const tls_files& tls) {
  cfg.load<caf::io::middleman>();
  if (!tls.enabled())
    return;
  // Links that file in, whose SSL_read & co. keep CAF's TLS links up.
  static_cast<void>(openssl_error_queue_cleared());
  cfg.load<caf::openssl::manager>();
  cfg.set("openssl.certificate", tls.certificate);
  cfg.set("openssl.key", tls.key);
  cfg.set("openssl.cafile", tls.ca);
}

// -- message types ----------------------------------------------------------------

void add_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::eventsource>();
  // add_message_type<T> also adds std::vector<T>.
  cfg.add_message_type<projections::projection_status>("es.projection_status");
  cfg.add_message_type<persistence::dead_letter>("es.dead_letter");
  cfg.add_message_type<projections::control_msg>("es.control_msg");
  cfg.add_message_type<cluster_member>("es.cluster_member");
  cfg.add_message_type<wire_event>("es.wire_event");
  cfg.add_message_type<wire_command>("es.wire_command");
  cfg.add_message_type<wire_result>("es.wire_result");
  cfg.add_message_type<wire_inspect>("es.wire_inspect");
  cfg.add_message_type<wire_state>("es.wire_state");
  cfg.add_message_type<wire_read>("es.wire_read");
  cfg.add_message_type<wire_batch>("es.wire_batch");
  cfg.add_error_category(
    caf::atom("es"),
    [](uint8_t code, caf::atom_value, const caf::message& ctx) {
      auto text = "es::" + to_string(static_cast<ec>(code));
      if (ctx.match_elements<std::string>())
        text += ": " + ctx.get_as<std::string>(0);
      return text;
    });
}

bool split_address(const std::string& address, std::string& host,
                   uint16_t& port) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size())
    return false;
  auto digits = address.substr(colon + 1);
  if (digits.size() > 5
      || digits.find_first_not_of("0123456789") != std::string::npos)
    return false;
  auto n = std::stoul(digits);
  if (n == 0 || n > 65535)
    return false;
  host = address.substr(0, colon);
  port = static_cast<uint16_t>(n);
  return true;
}

namespace {

// -- reachability -------------------------------------------------------------------

// Opens (and closes) a TCP connection to host:port within `timeout`; returns
// why that failed, or nothing. CAF's own connect blocks its middleman (every
// other connect of the process) for minutes on an address that drops SYNs.
std::string tcp_probe(const std::string& host, uint16_t port,
                      caf::timespan timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  auto service = std::to_string(port);
  if (auto rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found))
    return gai_strerror(rc);
  std::string why = "no address";
  for (auto* ai = found; ai != nullptr; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK,
                    ai->ai_protocol);
    if (fd < 0) {
      why = std::strerror(errno);
      continue;
    }
    int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    int err = rc == 0 ? 0 : errno;
    if (err == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
      if (poll(&p, 1, static_cast<int>(ms.count())) == 1) {
        socklen_t len = sizeof(err);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      } else {
        err = ETIMEDOUT;
      }
    }
    close(fd);
    if (err == 0) {
      freeaddrinfo(found);
      return {};
    }
    why = err == ETIMEDOUT
            ? "no answer within "
                + std::to_string(
                  std::chrono::duration_cast<std::chrono::milliseconds>(timeout)
                    .count())
                + " ms"
            : std::strerror(err);
  }
  freeaddrinfo(found);
  return why;
}

} // namespace

caf::behavior prober(caf::event_based_actor* self) {
  return {[self](probe_atom, const std::string& host, uint16_t port,
                 caf::timespan timeout) -> caf::result<bool> {
    self->quit();
    auto why = tcp_probe(host, port, timeout);
    if (!why.empty())
      return actors::make_error(ec::unavailable, why);
    return true;
  }};
}

} // namespace es::detail
