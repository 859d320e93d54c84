// Appends one event to an in-memory store and reads it back.
#include <iostream>

#include "es/persistence/event_store.hpp"

using namespace es::persistence;

int main() {
  auto store = open_store("memory:");
  if (!store)
    return 1;
  new_event e;
  e.event_type = "greeted";
  e.payload = {{"name", "world"}};
  auto r = (*store)->append("greeting-1", "greeting",
                            expected_version::no_stream(), {e});
  auto events = (*store)->read_stream("greeting-1");
  if (!r || !events || events->size() != 1)
    return 1;
  std::cout << "consumer: read " << events->front().event_type << '\n';
  return 0;
}
