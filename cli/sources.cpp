#include "sources.hpp"

#include <algorithm>
#include <charconv>

#include "commands.hpp"
#include "es/node_client.hpp"
#include "es/persistence/postgres_catalog.hpp"
#include "waiting.hpp"

namespace es::cli {

using namespace es::persistence;

namespace {

json number_or_null(int64_t x) {
  return x < 0 ? json() : json(x);
}

// The catalog in PostgreSQL: requests are queued for the running nodes.
class database_source : public source {
public:
  database_source(std::unique_ptr<postgres_catalog> catalog,
                  std::unique_ptr<postgres_store> store)
    : catalog_(std::move(catalog)), store_(std::move(store)) {
    // nop
  }

  std::string where() const override {
    return "the database";
  }

  result<std::vector<projection_view>> list() override {
    auto head = store_->head_position();
    if (!head)
      return head.error();
    auto records = catalog_->list();
    if (!records)
      return records.error();
    std::vector<projection_view> out;
    for (const auto& r : *records) {
      projection_view v;
      v.name = r.name;
      v.state = r.state;
      v.checkpoint = r.checkpoint;
      v.head = std::max(*head, r.checkpoint);
      v.lag = v.head - r.checkpoint;
      v.last_error = r.last_error;
      v.error_position = r.error_position;
      v.requested = r.requested;
      v.request_id = r.request_id;
      v.applied_id = r.applied_id;
      v.applied_error = r.applied_error;
      v.updated_at = to_iso8601(r.updated_at);
      out.push_back(std::move(v));
    }
    return out;
  }

  result<int64_t> request(const std::string& name, projection_op op) override {
    return catalog_->request(name, op);
  }

  result<std::vector<dead_letter>>
  dead_letters(const std::string& projection) override {
    return catalog_->dead_letters(projection, 10'000);
  }

  result<std::optional<dead_letter>> find_letter(int64_t id) override {
    return catalog_->find_dead_letter(id);
  }

  result<bool> retry(int64_t id) override {
    auto letter = catalog_->request_retry(id);
    if (!letter)
      return letter.error();
    return true;
  }

  result<bool> discard(int64_t id) override {
    return catalog_->remove_dead_letter(id);
  }

private:
  std::unique_ptr<postgres_catalog> catalog_;
  std::unique_ptr<postgres_store> store_;
};

// One running node: it applies each request before it answers.
class node_source : public source {
public:
  node_source(std::unique_ptr<node_client> node, std::string address)
    : node_(std::move(node)), address_(std::move(address)) {
    // nop
  }

  std::string where() const override {
    return "node " + address_;
  }

  result<std::vector<projection_view>> list() override {
    auto all = node_->projections();
    if (!all)
      return all.error();
    std::vector<projection_view> out;
    for (const auto& s : *all) {
      projection_view v;
      v.name = s.name;
      v.kind = s.kind == projections::projection::kind::postgres ? "postgres"
                                                                 : "in_memory";
      v.state = s.state;
      v.checkpoint = s.checkpoint;
      v.head = s.head;
      v.lag = s.lag;
      v.events_per_second = s.events_per_second;
      v.last_error = s.last_error;
      v.error_position = s.error_position;
      v.standby = s.standby;
      out.push_back(std::move(v));
    }
    return out;
  }

  result<int64_t> request(const std::string& name, projection_op op) override {
    if (auto r = node_->control(name, op); !r)
      return r.error();
    return int64_t{0};
  }

  result<std::vector<dead_letter>>
  dead_letters(const std::string& projection) override {
    return node_->dead_letters(projection);
  }

  result<std::optional<dead_letter>> find_letter(int64_t id) override {
    auto all = node_->dead_letters({});
    if (!all)
      return all.error();
    for (auto& d : *all)
      if (d.id == id)
        return std::optional<dead_letter>{std::move(d)};
    return std::optional<dead_letter>{};
  }

  result<bool> retry(int64_t id) override {
    if (auto r = node_->redrive(id); !r)
      return r.error();
    return false;
  }

  result<bool> discard(int64_t id) override {
    auto r = node_->discard(id);
    if (!r && r.error().code() == ec::not_found)
      return false;
    if (!r)
      return r.error();
    return true;
  }

private:
  std::unique_ptr<node_client> node_;
  std::string address_;
};

} // namespace

json view_json(const projection_view& v) {
  return {{"name", v.name},
          {"kind", v.kind.empty() ? json() : json(v.kind)},
          {"state", to_string(v.state)},
          {"checkpoint", v.checkpoint},
          {"head", number_or_null(v.head)},
          {"lag", number_or_null(v.lag)},
          {"events_per_second",
           v.events_per_second < 0 ? json() : json(v.events_per_second)},
          {"last_error", v.last_error},
          {"error_position", v.error_position},
          {"requested", v.requested ? json(to_string(*v.requested)) : json()},
          {"updated_at", v.updated_at.empty() ? json() : json(v.updated_at)},
          {"standby", v.standby}};
}

result<std::optional<projection_view>> source::find(const std::string& name) {
  auto all = list();
  if (!all)
    return all.error();
  for (auto& v : *all)
    if (v.name == name)
      return std::optional<projection_view>{std::move(v)};
  return std::optional<projection_view>{};
}

result<std::unique_ptr<node_client>> connect_node(const context& ctx,
                                                 std::chrono::seconds timeout) {
  auto colon = ctx.node.rfind(':');
  auto host = ctx.node.substr(0, colon);
  uint16_t port = 0;
  std::from_chars(ctx.node.data() + colon + 1,
                  ctx.node.data() + ctx.node.size(), port);
  return node_client::connect(host, port, timeout,
                              {ctx.tls_certificate, ctx.tls_key, ctx.tls_ca});
}

result<std::unique_ptr<source>> open_source(const context& ctx,
                                            std::chrono::seconds timeout) {
  if (!ctx.node.empty()) {
    auto node = connect_node(ctx, timeout);
    if (!node)
      return node.error();
    return std::unique_ptr<source>{
      new node_source(std::move(*node), ctx.node)};
  }
  auto catalog = postgres_catalog::open(ctx.url, connect_options());
  if (!catalog)
    return catalog.error();
  auto store = postgres_store::open(ctx.url, connect_options());
  if (!store)
    return store.error();
  return std::unique_ptr<source>{
    new database_source(std::move(*catalog), std::move(*store))};
}

void add_wait_flags(CLI::App* cmd, wait_args& args) {
  auto* w = cmd->add_flag("--wait", args.wait,
                          "Wait until a node has done it (the default on a "
                          "terminal, with a progress bar)");
  cmd->add_flag("--no-wait", args.no_wait, "Return once it is requested")
    ->excludes(w);
  cmd->add_option("--timeout", args.timeout, "Seconds to wait at most")
    ->capture_default_str()
    ->check(integer_in(1, 86'400));
}

int open_failed(const context& ctx, const es::error& err) {
  return ctx.fail(ctx.node.empty() ? "cannot open the projection catalog"
                                   : "cannot reach node " + ctx.node,
                  err);
}

} // namespace es::cli
