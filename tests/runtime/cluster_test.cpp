// Runtimes as cluster members on loopback (real threads and sockets): how
// they find each other, where commands run, what crosses between nodes,
// clients, and the bad cases. `Cluster.*` use the memory store (each member
// has its own: these tests are about routing); `PostgresCluster.*` share a
// real PostgreSQL, the single source of truth. Networking is asynchronous,
// so these tests wait for conditions (es::test::eventually), never sleep.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <caf/scoped_actor.hpp>

#include "account.hpp"
#include "es/actors/journal.hpp"
#include "es/node_client.hpp"
#include "es/placement.hpp"
#include "es/runtime.hpp"
#include "support/stores.hpp"

using bank::account;
using es::ec;
using es::test::eventually;

namespace {

// An aggregate whose command has no JSON: it cannot cross nodes.
struct tally {
  static constexpr const char* type = "tally";
  struct state {
    int64_t n = 0;
  };
  struct add {
    int64_t by = 1;
  };
  struct added {
    static constexpr const char* type_name = "added";
    int64_t by = 0;
  };
  using command = add;
  using event = std::variant<added>;
  static es::decision<event> execute(const state&, const command& c) {
    return added{c.by};
  }
  static state apply(state s, const event& e) {
    s.n += std::get<added>(e).by;
    return s;
  }
};

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(tally::added, by)

// Lines of a runtime's cluster log, for assertions.
struct log_lines {
  std::mutex mtx;
  std::vector<std::string> lines;

  std::function<void(const std::string&)> sink() {
    return [this](const std::string& line) {
      std::unique_lock guard{mtx};
      lines.push_back(line);
    };
  }

  bool has(const std::string& part) {
    std::unique_lock guard{mtx};
    return std::any_of(lines.begin(), lines.end(), [&](const auto& l) {
      return l.find(part) != std::string::npos;
    });
  }
};

struct member_options {
  std::vector<std::string> peers;
  std::string store_url = "memory:";
  bool host = true;
  log_lines* log = nullptr;
};

// A member on a free port that hosts accounts (unless told otherwise).
std::unique_ptr<es::runtime> start_member(member_options mo = {}) {
  es::runtime_options opts;
  opts.store_url = mo.store_url;
  opts.node_port = 0;
  opts.peers = mo.peers;
  opts.failure_timeout = std::chrono::milliseconds{1000};
  if (mo.log)
    opts.cluster_log = mo.log->sink();
  auto rt = es::runtime::start(opts);
  if (!rt)
    throw std::runtime_error(to_string(rt.error()));
  if (mo.host) {
    (*rt)->host<account>();
    (*rt)->host<tally>();
  }
  return std::move(*rt);
}

std::string address(es::runtime& rt) {
  return "127.0.0.1:" + std::to_string(rt.node_port());
}

size_t member_count(es::runtime& rt) {
  auto all = rt.members();
  return all ? all->size() : 0;
}

// Waits until every runtime sees all of them as members.
bool joined(std::initializer_list<es::runtime*> all) {
  return eventually([&] {
    return std::all_of(all.begin(), all.end(), [&](es::runtime* rt) {
      return member_count(*rt) == all.size();
    });
  });
}

// Returns the first id "acct-N" that `owner` owns among `members`.
std::string owned_by(const std::string& owner,
                     const std::vector<std::string>& members) {
  for (int i = 1;; ++i) {
    auto id = "acct-" + std::to_string(i);
    if (es::owner_of(es::placement_key("account", id), members) == owner)
      return id;
  }
}

// A port nothing listens on.
uint16_t closed_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

es::error error_of(const caf::error& err) {
  return es::actors::from_caf(err);
}

} // namespace

TEST(Cluster, MembersFindEachOtherThroughOneSeed) {
  auto a = start_member();
  auto b = start_member({{address(*a)}});
  auto c = start_member({{address(*b)}}); // knows only b
  ASSERT_TRUE(joined({a.get(), b.get(), c.get()}));
  auto seen = a->members();
  ASSERT_TRUE(seen);
  std::vector<std::string> names;
  for (const auto& m : *seen) {
    names.push_back(m.address);
    EXPECT_EQ(m.self, m.address == address(*a));
  }
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(std::count(names.begin(), names.end(), address(*c)), 1);
}

TEST(Cluster, CommandsRunOnTheirOwnerAndAnswerThroughAnyMember) {
  auto a = start_member();
  auto b = start_member({{address(*a)}});
  ASSERT_TRUE(joined({a.get(), b.get()}));
  std::vector<std::string> members{address(*a), address(*b)};
  size_t on_b = 0;
  for (int i = 1; i <= 20; ++i) {
    auto id = "acct-" + std::to_string(i);
    auto& via = i % 2 ? *a : *b;
    auto r = via.execute<account>(id, bank::open_account{"ada"});
    ASSERT_TRUE(r) << to_string(r.error());
    EXPECT_EQ(r->version, 1);
    ASSERT_EQ(r->events.size(), 1u);
    EXPECT_EQ(r->events.begin()->stream_id, id);
    EXPECT_EQ(r->events.begin()->event_type, "account_opened");
    EXPECT_EQ(r->events.begin()->payload["owner"], "ada");
    if (es::owner_of(es::placement_key("account", id), members) == address(*b))
      ++on_b;
  }
  EXPECT_GT(on_b, 0u);
  EXPECT_LT(on_b, 20u);
  EXPECT_EQ(b->live_aggregates(), on_b);
  EXPECT_EQ(a->live_aggregates(), 20 - on_b);
  // The state comes back through the member that does not own it.
  auto id = owned_by(address(*b), members);
  ASSERT_TRUE(a->execute<account>(id, bank::deposit{70}));
  auto view = a->inspect<account>(id);
  ASSERT_TRUE(view) << to_string(view.error());
  EXPECT_EQ(view->state.balance, 70);
  EXPECT_EQ(view->version, 2);
  EXPECT_EQ(view->state.owner, "ada");
}

TEST(Cluster, TheOwnersErrorsComeBackUnchanged) {
  auto a = start_member();
  auto b = start_member({{address(*a)}});
  ASSERT_TRUE(joined({a.get(), b.get()}));
  auto id = owned_by(address(*b), {address(*a), address(*b)});
  auto r = a->execute<account>(id, bank::deposit{5}); // never opened
  ASSERT_FALSE(r);
  auto err = error_of(r.error());
  EXPECT_EQ(err.code(), ec::rejected);
  EXPECT_FALSE(err.message().empty());
  EXPECT_EQ(b->live_aggregates(), 1u);
}

TEST(Cluster, AMemberThatDoesNotHostATypeSaysSo) {
  auto a = start_member();
  auto b = start_member({{address(*a)}, "memory:", false});
  ASSERT_TRUE(joined({a.get(), b.get()}));
  auto id = owned_by(address(*b), {address(*a), address(*b)});
  auto r = a->execute<account>(id, bank::open_account{"ada"});
  ASSERT_FALSE(r);
  auto err = error_of(r.error());
  EXPECT_EQ(err.code(), ec::not_found);
  EXPECT_NE(err.message().find("hosts no aggregate type 'account'"),
            std::string::npos)
    << err.message();
  EXPECT_EQ(b->live_aggregates(), 0u);
}

TEST(Cluster, CommandsWithoutJsonRunOnlyWhereTheyAreOwned) {
  auto a = start_member();
  auto b = start_member({{address(*a)}});
  ASSERT_TRUE(joined({a.get(), b.get()}));
  std::vector<std::string> members{address(*a), address(*b)};
  std::string here, there;
  for (int i = 1; here.empty() || there.empty(); ++i) {
    auto id = "t-" + std::to_string(i);
    auto owner = es::owner_of(es::placement_key("tally", id), members);
    (owner == address(*a) ? here : there) = id;
  }
  EXPECT_TRUE(a->execute<tally>(here, tally::add{2}));
  auto r = a->execute<tally>(there, tally::add{2});
  ASSERT_FALSE(r);
  auto err = error_of(r.error());
  EXPECT_EQ(err.code(), ec::invalid_argument);
  EXPECT_NE(err.message().find("cannot cross nodes"), std::string::npos)
    << err.message();
  EXPECT_EQ(b->live_aggregates(), 0u);
}

TEST(Cluster, AggregatesThatMoveAwayPassivate) {
  auto a = start_member();
  for (int i = 1; i <= 30; ++i)
    ASSERT_TRUE(a->execute<account>("acct-" + std::to_string(i),
                                    bank::open_account{"ada"}));
  EXPECT_EQ(a->live_aggregates(), 30u);
  auto b = start_member({{address(*a)}});
  ASSERT_TRUE(joined({a.get(), b.get()}));
  size_t kept = 0;
  for (int i = 1; i <= 30; ++i)
    if (es::owner_of(es::placement_key("account", "acct-" + std::to_string(i)),
                     {address(*a), address(*b)})
        == address(*a))
      ++kept;
  ASSERT_LT(kept, 30u);
  EXPECT_TRUE(eventually([&] { return a->live_aggregates() == kept; }))
    << a->live_aggregates() << " live, " << kept << " kept";
}

TEST(Cluster, AMemberThatLeavesIsRemovedAndItsAggregatesComeBack) {
  log_lines log;
  auto a = start_member({{}, "memory:", true, &log});
  auto b = start_member({{address(*a)}});
  ASSERT_TRUE(joined({a.get(), b.get()}));
  auto gone = address(*b);
  auto id = owned_by(gone, {address(*a), gone});
  ASSERT_TRUE(a->execute<account>(id, bank::open_account{"ada"}));
  EXPECT_EQ(a->live_aggregates(), 0u);
  b.reset(); // leaves the cluster, then stops
  EXPECT_TRUE(eventually([&] { return member_count(*a) == 1; }));
  EXPECT_TRUE(log.has("member " + gone + " joined"));
  EXPECT_TRUE(log.has("member " + gone + " left"));
  // Runs here now (on a's own memory store: a new account).
  EXPECT_TRUE(a->execute<account>(id, bank::open_account{"bob"}));
  EXPECT_EQ(a->live_aggregates(), 1u);
}

TEST(Cluster, AMemberRestartedOnItsPortRejoins) {
  auto a = start_member();
  auto b = start_member({{address(*a)}});
  ASSERT_TRUE(joined({a.get(), b.get()}));
  auto port = b->node_port();
  b.reset();
  ASSERT_TRUE(eventually([&] { return member_count(*a) == 1; }));
  es::runtime_options opts;
  opts.node_port = port;
  opts.peers = {address(*a)};
  opts.failure_timeout = std::chrono::milliseconds{1000};
  auto again = es::runtime::start(opts);
  ASSERT_TRUE(again) << to_string(again.error());
  EXPECT_TRUE(joined({a.get(), again->get()}));
}

TEST(Cluster, ClientsSendEverythingThroughTheirNode) {
  auto a = start_member();
  auto b = start_member({{address(*a)}});
  ASSERT_TRUE(joined({a.get(), b.get()}));
  es::runtime_options opts;
  opts.via = address(*a);
  auto client = es::runtime::start(opts);
  ASSERT_TRUE(client) << to_string(client.error());
  auto& c = **client;
  for (int i = 1; i <= 10; ++i) {
    auto id = "acct-" + std::to_string(i);
    auto r = c.execute<account>(id, bank::open_account{"ada"});
    ASSERT_TRUE(r) << to_string(r.error());
    ASSERT_TRUE(c.execute<account>(id, bank::deposit{i}));
    auto view = c.inspect<account>(id);
    ASSERT_TRUE(view) << to_string(view.error());
    EXPECT_EQ(view->state.balance, i);
  }
  EXPECT_EQ(c.live_aggregates(), 0u);
  EXPECT_EQ(a->live_aggregates() + b->live_aggregates(), 10u);
  EXPECT_GT(b->live_aggregates(), 0u);
  // Streams are read by the node (here: a's own memory store).
  auto id = owned_by(address(*a), {address(*a), address(*b)});
  auto events = c.read_stream(id);
  ASSERT_TRUE(events) << to_string(events.error());
  EXPECT_EQ(events->size(), 2u);
  // The members and projections are the node's.
  EXPECT_EQ(member_count(c), 2u);
  auto statuses = c.projections();
  ASSERT_TRUE(statuses) << to_string(statuses.error());
  auto added = c.add_projection(es::projection::in_memory(
    "p", [](const es::persistence::recorded_event&) {}));
  ASSERT_FALSE(added);
  EXPECT_EQ(error_of(added.error()).code(), ec::invalid_argument);
}

TEST(Cluster, AClientWhoseNodeGoesAwayGetsUnavailableThenReconnects) {
  auto a = start_member();
  es::runtime_options opts;
  opts.via = address(*a);
  auto client = es::runtime::start(opts);
  ASSERT_TRUE(client) << to_string(client.error());
  ASSERT_TRUE((*client)->execute<account>("acct-1", bank::open_account{"x"}));
  auto port = a->node_port();
  a.reset();
  EXPECT_TRUE(eventually([&] {
    auto r = (*client)->execute<account>("acct-1", bank::deposit{1});
    return !r && error_of(r.error()).code() == ec::unavailable;
  }));
  // A node back on that port: the client reconnects by itself.
  es::runtime_options again;
  again.node_port = port;
  auto b = es::runtime::start(again);
  ASSERT_TRUE(b) << to_string(b.error());
  (*b)->host<account>();
  EXPECT_TRUE(eventually([&] {
    return static_cast<bool>(
      (*client)->execute<account>("acct-1", bank::open_account{"y"}));
  }));
}

TEST(Cluster, BadOptionsAreRefused) {
  auto refused = [](es::runtime_options opts, const std::string& part) {
    auto rt = es::runtime::start(opts);
    if (rt)
      return testing::AssertionFailure() << "started";
    auto err = error_of(rt.error());
    if (err.code() != ec::invalid_argument
        || err.message().find(part) == std::string::npos)
      return testing::AssertionFailure() << err.to_string();
    return testing::AssertionSuccess();
  };
  es::runtime_options opts;
  opts.peers = {"127.0.0.1:4710"};
  EXPECT_TRUE(refused(opts, "need a node_port"));
  opts.node_port = 0;
  for (auto bad : {"nope", "127.0.0.1:0", "127.0.0.1:70000", ":4710",
                   "127.0.0.1:"}) {
    opts.peers = {bad};
    EXPECT_TRUE(refused(opts, "is not HOST:PORT")) << bad;
  }
  opts.peers.clear();
  opts.failure_timeout = std::chrono::milliseconds{50};
  EXPECT_TRUE(refused(opts, "failure_timeout"));
  es::runtime_options client;
  client.via = "127.0.0.1";
  EXPECT_TRUE(refused(client, "is not HOST:PORT"));
  client.via = "127.0.0.1:4710";
  client.node_port = 0;
  EXPECT_TRUE(refused(client, "no node_port"));
}

TEST(Cluster, AClientWithNoNodeFailsToStartAtOnce) {
  es::runtime_options opts;
  opts.via = "127.0.0.1:" + std::to_string(closed_port());
  auto rt = es::runtime::start(opts);
  ASSERT_FALSE(rt);
  auto err = error_of(rt.error());
  EXPECT_EQ(err.code(), ec::unavailable);
  EXPECT_NE(err.message().find("cannot reach node " + opts.via),
            std::string::npos)
    << err.message();
}

TEST(Cluster, APeerThatNeverAnswersIsReportedAndDoesNotBlockOthers) {
  // A socket that listens but never accepts or speaks.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  auto silent = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  auto a = start_member();
  log_lines log;
  auto b = start_member({{silent, address(*a)}, "memory:", true, &log});
  EXPECT_TRUE(joined({a.get(), b.get()}));
  EXPECT_TRUE(eventually([&] { return log.has("cannot reach " + silent); }));
  EXPECT_TRUE(b->execute<account>("acct-1", bank::open_account{"ada"}));
  close(fd);
}

TEST(Cluster, APortInUseIsAClearError) {
  auto a = start_member();
  es::runtime_options opts;
  opts.node_port = a->node_port();
  auto rt = es::runtime::start(opts);
  ASSERT_FALSE(rt);
  auto err = error_of(rt.error());
  EXPECT_EQ(err.code(), ec::unavailable);
  EXPECT_NE(err.message().find("cannot serve the node on"), std::string::npos)
    << err.message();
}

// Two nodes that each believe they own an aggregate (split views, as during
// a membership change) write to one stream at once: optimistic concurrency
// makes one fail with a conflict, it catches up and retries; the stream
// never forks and every acknowledged deposit is in it.
TEST(PostgresCluster, TwoOwnersOfOneAggregateNeverForkItsStream) {
  ES_REQUIRE_DATABASE();
  es::test::pg_schema db;
  auto a = start_member({{}, db.url()});
  auto b = start_member({{}, db.url()}); // no peers: each owns everything
  ASSERT_TRUE(a->execute<account>("acct-1", bank::open_account{"ada"}));
  // Taking turns: each one's live state is one event behind when its turn
  // comes, so every append first conflicts, then catches up and succeeds.
  for (int64_t v = 2; v <= 11; ++v) {
    auto r = (v % 2 ? *a : *b).execute<account>("acct-1", bank::deposit{1});
    ASSERT_TRUE(r) << to_string(r.error());
    EXPECT_EQ(r->version, v);
  }
  std::atomic<int64_t> acknowledged{10};
  std::atomic<int> conflicts{0};
  std::atomic<int> other_errors{0};
  auto hammer = [&](es::runtime* rt) {
    for (int i = 0; i < 100; ++i) {
      auto r = rt->execute<account>("acct-1", bank::deposit{1});
      if (r)
        ++acknowledged;
      else if (error_of(r.error()).code() == ec::conflict)
        ++conflicts;
      else
        ++other_errors;
    }
  };
  std::thread ta{hammer, a.get()};
  std::thread tb{hammer, b.get()};
  ta.join();
  tb.join();
  EXPECT_EQ(other_errors.load(), 0);
  EXPECT_GT(acknowledged.load(), 0);
  EXPECT_EQ(db.query_int("SELECT count(*) FROM es_events"),
            acknowledged.load() + 1);
  EXPECT_EQ(db.query_int("SELECT max(version) - count(*) FROM es_events "
                         "WHERE stream_id = 'acct-1'"),
            0);
  EXPECT_EQ(db.query_int("SELECT sum((payload->>'amount')::bigint) FROM "
                         "es_events WHERE event_type = 'deposited'"),
            acknowledged.load());
  // Both see the same state once they have caught up.
  for (auto* rt : {a.get(), b.get()}) {
    ASSERT_TRUE(rt->execute<account>("acct-1", bank::deposit{1}));
    auto view = rt->inspect<account>("acct-1");
    ASSERT_TRUE(view);
    EXPECT_EQ(view->version,
              db.query_int("SELECT max(version) FROM es_events"));
  }
}

// Commands through every member of a real cluster land in one store:
// versions and global positions stay gapless.
TEST(PostgresCluster, CommandsThroughAnyMemberShareOneStore) {
  ES_REQUIRE_DATABASE();
  es::test::pg_schema db;
  auto a = start_member({{}, db.url()});
  auto b = start_member({{address(*a)}, db.url()});
  ASSERT_TRUE(joined({a.get(), b.get()}));
  for (int i = 1; i <= 20; ++i) {
    auto id = "acct-" + std::to_string(i);
    ASSERT_TRUE(a->execute<account>(id, bank::open_account{"ada"}));
    ASSERT_TRUE(b->execute<account>(id, bank::deposit{i}));
  }
  EXPECT_EQ(a->live_aggregates() + b->live_aggregates(), 20u);
  EXPECT_GT(a->live_aggregates(), 0u);
  EXPECT_GT(b->live_aggregates(), 0u);
  EXPECT_EQ(db.query_int("SELECT count(*) FROM es_events"), 40);
  EXPECT_EQ(db.query_int("SELECT max(global_position) FROM es_events"), 40);
  auto history = b->read_stream("acct-7");
  ASSERT_TRUE(history);
  EXPECT_EQ(history->size(), 2u);
}

// The journal's batches reach the other members' local bus group (the fast
// path to their projections).
TEST(PostgresCluster, EventsCommittedOnOneMemberReachTheOthersBus) {
  ES_REQUIRE_DATABASE();
  es::test::pg_schema db;
  auto a = start_member({{}, db.url()});
  auto b = start_member({{address(*a)}, db.url()});
  ASSERT_TRUE(joined({a.get(), b.get()}));
  caf::scoped_actor listener{b->system()};
  listener->join(b->system().groups().get_local(es::actors::bus_group()));
  auto id = owned_by(address(*a), {address(*a), address(*b)});
  ASSERT_TRUE(a->execute<account>(id, bank::open_account{"ada"}));
  std::shared_ptr<const es::actors::event_batch> got;
  listener->receive(
    [&](std::shared_ptr<const es::actors::event_batch>& batch) {
      got = batch;
    },
    caf::after(std::chrono::seconds{10}) >> [] {});
  ASSERT_TRUE(got) << "no batch arrived";
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ(got->front().stream_id, id);
  EXPECT_EQ(got->front().event_type, "account_opened");
  EXPECT_EQ(got->front().payload["owner"], "ada");
  EXPECT_EQ(got->front().global_position, 1);
}

// -- TLS ------------------------------------------------------------------------

namespace {

// Certificates made with the openssl program: two CAs; n1, n2 signed by
// "ca", rogue by "other".
struct certificates {
  std::string dir;

  certificates() {
    char tmpl[] = "/tmp/es-tls-XXXXXX";
    dir = mkdtemp(tmpl);
    auto run = [](const std::string& cmd) {
      if (std::system((cmd + " >/dev/null 2>&1").c_str()) != 0)
        throw std::runtime_error("failed: " + cmd);
    };
    for (auto ca : {"ca", "other"})
      run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN="
          + std::string{ca} + " -keyout " + dir + "/" + ca + ".key -out "
          + dir + "/" + ca + ".pem");
    for (auto [name, ca] : {std::pair{"n1", "ca"}, std::pair{"n2", "ca"},
                            std::pair{"rogue", "other"}}) {
      auto base = dir + "/" + name;
      run("openssl req -newkey rsa:2048 -nodes -subj /CN=" + std::string{name}
          + " -keyout " + base + ".key -out " + base + ".csr");
      run("openssl x509 -req -days 2 -in " + base + ".csr -CA " + dir + "/"
          + ca + ".pem -CAkey " + dir + "/" + ca + ".key -CAcreateserial -out "
          + base + ".pem");
    }
  }

  ~certificates() {
    std::system(("rm -rf " + dir).c_str());
  }

  es::tls_files of(const std::string& name) const {
    return {dir + "/" + name + ".pem", dir + "/" + name + ".key",
            dir + "/ca.pem"};
  }
};

std::unique_ptr<es::runtime> start_tls_member(const es::tls_files& tls,
                                              std::vector<std::string> peers,
                                              log_lines* log = nullptr) {
  es::runtime_options opts;
  opts.node_port = 0;
  opts.peers = std::move(peers);
  opts.failure_timeout = std::chrono::milliseconds{1000};
  opts.tls = tls;
  if (log)
    opts.cluster_log = log->sink();
  auto rt = es::runtime::start(opts);
  if (!rt)
    throw std::runtime_error(to_string(rt.error()));
  (*rt)->host<account>();
  return std::move(*rt);
}

} // namespace

TEST(ClusterTls, MembersWithCertificatesOfTheirCaJoinAndRoute) {
  certificates certs;
  auto a = start_tls_member(certs.of("n1"), {});
  auto b = start_tls_member(certs.of("n2"), {address(*a)});
  ASSERT_TRUE(joined({a.get(), b.get()}));
  auto id = owned_by(address(*b), {address(*a), address(*b)});
  ASSERT_TRUE(a->execute<account>(id, bank::open_account{"ada"}));
  EXPECT_EQ(b->live_aggregates(), 1u);
  // Clients and operators need a certificate of that CA too.
  es::runtime_options opts;
  opts.via = address(*a);
  opts.tls = certs.of("n2");
  auto client = es::runtime::start(opts);
  ASSERT_TRUE(client) << to_string(client.error());
  EXPECT_TRUE((*client)->execute<account>(id, bank::deposit{1}));
  auto admin = es::node_client::connect("127.0.0.1", a->node_port(),
                                        std::chrono::seconds{10},
                                        certs.of("n1"));
  ASSERT_TRUE(admin) << admin.error().to_string();
  auto members = (*admin)->members();
  ASSERT_TRUE(members);
  EXPECT_EQ(members->size(), 2u);
}

TEST(ClusterTls, PeersWithoutACertificateOfTheCaAreRefused) {
  certificates certs;
  auto a = start_tls_member(certs.of("n1"), {});
  log_lines rogue_log;
  auto rogue = certs.of("rogue");
  rogue.ca = certs.dir + "/other.pem"; // trusts its own CA only
  auto r = start_tls_member(rogue, {address(*a)}, &rogue_log);
  log_lines plain_log;
  auto p = start_member({{address(*a)}, "memory:", true, &plain_log});
  EXPECT_TRUE(eventually([&] {
    return rogue_log.has("cannot reach " + address(*a))
           && plain_log.has("cannot reach " + address(*a));
  }));
  EXPECT_EQ(member_count(*a), 1u);
  EXPECT_EQ(member_count(*r), 1u);
  EXPECT_EQ(member_count(*p), 1u);
  // A client or an operator without the right certificate is refused too.
  es::runtime_options opts;
  opts.via = address(*a);
  auto plain_client = es::runtime::start(opts);
  ASSERT_FALSE(plain_client);
  EXPECT_EQ(error_of(plain_client.error()).code(), ec::unavailable);
  auto admin = es::node_client::connect("127.0.0.1", a->node_port(),
                                        std::chrono::seconds{10});
  EXPECT_FALSE(admin);
}

TEST(ClusterTls, MissingFilesAreAClearErrorAtStart) {
  certificates certs;
  es::runtime_options opts;
  opts.node_port = 0;
  opts.tls = certs.of("n1");
  opts.tls.ca.clear();
  auto rt = es::runtime::start(opts);
  ASSERT_FALSE(rt);
  auto err = error_of(rt.error());
  EXPECT_EQ(err.code(), ec::invalid_argument);
  EXPECT_NE(err.message().find("the CA is missing"), std::string::npos)
    << err.message();
  opts.tls = certs.of("n1");
  opts.tls.certificate = certs.dir + "/nope.pem";
  rt = es::runtime::start(opts);
  ASSERT_FALSE(rt);
  err = error_of(rt.error());
  EXPECT_EQ(err.code(), ec::invalid_argument);
  EXPECT_NE(err.message().find("cannot read the TLS certificate"),
            std::string::npos)
    << err.message();
  auto admin = es::node_client::connect("127.0.0.1", 4710,
                                        std::chrono::seconds{1}, opts.tls);
  ASSERT_FALSE(admin);
  EXPECT_EQ(admin.error().code(), ec::invalid_argument);
}
