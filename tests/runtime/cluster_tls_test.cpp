// Cluster members with TLS (caf::openssl): members with certificates of
// one CA join and route; others are refused; missing files are a clear
// error at start. The certificates are made with the openssl program.
#include <gtest/gtest.h>

#include <caf/scoped_actor.hpp>

#include "es/node_client.hpp"
#include "runtime/cluster_fixture.hpp"

using bank::account;
using es::ec;
using es::test::eventually;
using namespace cluster_fixture;

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

// An operator (node_client) with `tls` connects to `node`, lists `n`
// members and disconnects.
void expect_operator_sees(es::runtime& node, const es::tls_files& tls,
                          size_t n) {
  auto admin = es::node_client::connect("127.0.0.1", node.node_port(),
                                        std::chrono::seconds{10}, tls);
  ASSERT_TRUE(admin) << admin.error().to_string();
  auto members = (*admin)->members();
  ASSERT_TRUE(members);
  EXPECT_EQ(members->size(), n);
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
  expect_operator_sees(*a, certs.of("n1"), 2);
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

// Clients that come and go, and clients that are refused, leave the links
// between members alone. (CAF 0.17.6 leaves OpenSSL's per-thread error
// queue filled after a failed or closed session, and the next healthy
// session on that thread then read its "would block" as a failure.)
TEST(ClusterTls, ClientsThatComeAndGoLeaveTheMembersLinksUp) {
  certificates certs;
  log_lines log_a, log_b;
  auto a = start_tls_member(certs.of("n1"), {}, &log_a);
  auto b = start_tls_member(certs.of("n2"), {address(*a)}, &log_b);
  ASSERT_TRUE(joined({a.get(), b.get()}));
  auto id = owned_by(address(*b), {address(*a), address(*b)});
  ASSERT_TRUE(a->execute<account>(id, bank::open_account{"ada"}));
  auto rogue = certs.of("rogue");
  rogue.ca = certs.dir + "/other.pem";
  for (int round = 0; round < 10; ++round) {
    expect_operator_sees(*a, certs.of("n1"), 2);
    EXPECT_FALSE(es::node_client::connect("127.0.0.1", b->node_port(),
                                          std::chrono::seconds{10}, rogue));
    EXPECT_FALSE(es::node_client::connect("127.0.0.1", a->node_port(),
                                          std::chrono::seconds{10}));
    auto deposited = a->execute<account>(id, bank::deposit{1});
    ASSERT_TRUE(deposited) << "round " << round << ": "
                           << to_string(deposited.error());
  }
  EXPECT_FALSE(log_a.has(" left ")) << "a dropped b";
  EXPECT_FALSE(log_b.has(" left ")) << "b dropped a";
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
