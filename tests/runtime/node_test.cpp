// A node's admin actor over CAF networking (loopback, real threads): what
// `eventsource --node` sends, through es::node_client. The replies come
// after the node applied the request, so no test waits or sleeps.
#include <gtest/gtest.h>

#include "es/node_client.hpp"
#include "es/runtime.hpp"

using es::ec;
using es::persistence::projection_op;
using es::persistence::projection_state;
using es::projections::projection;

namespace {

// A runtime on the memory store with projections "a" and "b", serving its
// admin actor on a free port.
std::unique_ptr<es::runtime> start_node() {
  es::runtime_options opts;
  opts.node_port = 0;
  auto rt = es::runtime::start(opts);
  if (!rt)
    throw std::runtime_error(to_string(rt.error()));
  for (auto name : {"b", "a"})
    if (!(*rt)->add_projection(
          projection::in_memory(name, [](const es::persistence::recorded_event&) {})))
      throw std::runtime_error("cannot add projection");
  return std::move(*rt);
}

std::unique_ptr<es::node_client> connect(es::runtime& rt) {
  auto node = es::node_client::connect("127.0.0.1", rt.node_port());
  if (!node)
    throw std::runtime_error(node.error().to_string());
  return std::move(*node);
}

} // namespace

TEST(Node, ServesTheProjectionsStatusOverTheNetwork) {
  auto rt = start_node();
  ASSERT_GT(rt->node_port(), 0);
  auto node = connect(*rt);
  auto all = node->projections();
  ASSERT_TRUE(all) << all.error().to_string();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "a");
  EXPECT_EQ((*all)[1].name, "b");
  EXPECT_EQ((*all)[0].kind, projection::kind::in_memory);
  EXPECT_EQ((*all)[0].head, 0);
}

TEST(Node, AppliesControlBeforeItAnswers) {
  auto rt = start_node();
  auto node = connect(*rt);
  ASSERT_TRUE(node->control("a", projection_op::pause));
  auto all = rt->projections();
  ASSERT_TRUE(all);
  EXPECT_EQ((*all)[0].state, projection_state::paused);
  EXPECT_NE((*all)[1].state, projection_state::paused);
  ASSERT_TRUE(node->control("a", projection_op::resume));
  EXPECT_NE(node->projections()->front().state, projection_state::paused);
}

TEST(Node, ErrorsComeBackAsTheNodesOwn) {
  auto rt = start_node();
  auto node = connect(*rt);
  auto bad = node->control("nope", projection_op::pause);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ec::not_found);
  EXPECT_NE(bad.error().message().find("'nope'"), std::string::npos)
    << bad.error().message();
  auto letters = node->dead_letters();
  ASSERT_TRUE(letters);
  EXPECT_TRUE(letters->empty());
  auto redrive = node->redrive(42);
  ASSERT_FALSE(redrive);
  EXPECT_EQ(redrive.error().code(), ec::not_found);
  auto discard = node->discard(42);
  ASSERT_FALSE(discard);
  EXPECT_EQ(discard.error().code(), ec::not_found);
}

TEST(Node, ANodeThatIsNotThereIsUnavailable) {
  uint16_t port = 0;
  {
    auto rt = start_node();
    port = rt->node_port();
  } // stopped: the port is closed
  auto node = es::node_client::connect("127.0.0.1", port);
  ASSERT_FALSE(node);
  EXPECT_EQ(node.error().code(), ec::unavailable);
  EXPECT_NE(node.error().message().find("127.0.0.1:" + std::to_string(port)),
            std::string::npos)
    << node.error().message();
}

TEST(Node, APortInUseIsAClearError) {
  auto first = start_node();
  es::runtime_options opts;
  opts.node_port = first->node_port();
  auto second = es::runtime::start(opts);
  ASSERT_FALSE(second);
  auto err = es::actors::from_caf(second.error());
  EXPECT_EQ(err.code(), ec::unavailable);
  EXPECT_NE(err.message().find("cannot serve the node on 127.0.0.1:"),
            std::string::npos)
    << err.message();
}

TEST(Node, ANodeThatStopsIsUnavailableToItsClients) {
  auto rt = start_node();
  auto node = connect(*rt);
  ASSERT_TRUE(node->projections());
  rt.reset(); // the node stops while the client is connected
  auto all = node->projections();
  ASSERT_FALSE(all);
  EXPECT_EQ(all.error().code(), ec::unavailable);
}
