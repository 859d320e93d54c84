#include "serve.hpp"

#include <csignal>
#include <cstdlib>
#include <ostream>
#include <thread>

#include <pthread.h>

namespace bank {

namespace {

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

} // namespace

void block_stop_signals() {
  auto set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int serve(es::runtime& rt, std::ostream& out) {
  out << "node: listening on " << rt.options().node_host << ':'
      << rt.node_port() << std::endl;
  auto set = stop_signals();
  int received = 0;
  while (sigwait(&set, &received) != 0) {
    // nop: interrupted, wait again
  }
  out << "node: stopping (" << (received == SIGINT ? "SIGINT" : "SIGTERM")
      << ")" << std::endl;
  // A second signal while shutting down ends the process at once.
  std::thread([set] {
    int again = 0;
    sigwait(&set, &again);
    std::_Exit(128 + again);
  }).detach();
  return 0;
}

} // namespace bank
