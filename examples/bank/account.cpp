#include "account.hpp"

namespace bank {

namespace {

template <class... Fs>
struct overload : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overload(Fs...) -> overload<Fs...>;

} // namespace

bool operator==(const account_opened& x, const account_opened& y) {
  return x.owner == y.owner;
}

bool operator==(const deposited& x, const deposited& y) {
  return x.amount == y.amount;
}

bool operator==(const withdrawn& x, const withdrawn& y) {
  return x.amount == y.amount;
}

bool operator==(const account_closed&, const account_closed&) {
  return true;
}

es::decision<account::event> account::execute(const state& s,
                                              const command& c) {
  using result = es::decision<event>;
  return std::visit(
    overload{
      [&](const open_account& cmd) -> result {
        if (s.opened)
          return es::reject("account is already open");
        if (cmd.owner.empty())
          return es::reject("owner is empty");
        return account_opened{cmd.owner};
      },
      [&](const deposit& cmd) -> result {
        if (!s.opened || s.closed)
          return es::reject("account is not open");
        if (cmd.amount <= 0)
          return es::reject("amount must be positive");
        return deposited{cmd.amount};
      },
      [&](const withdraw& cmd) -> result {
        if (!s.opened || s.closed)
          return es::reject("account is not open");
        if (cmd.amount <= 0)
          return es::reject("amount must be positive");
        if (cmd.amount > s.balance)
          return es::reject("insufficient funds");
        return withdrawn{cmd.amount};
      },
      [&](const close_account&) -> result {
        if (!s.opened || s.closed)
          return es::reject("account is not open");
        if (s.balance != 0)
          return es::reject("balance is not zero");
        return account_closed{};
      },
    },
    c);
}

account::state account::apply(state s, const event& e) {
  std::visit(overload{
               [&](const account_opened& ev) {
                 s.opened = true;
                 s.owner = ev.owner;
               },
               [&](const deposited& ev) { s.balance += ev.amount; },
               [&](const withdrawn& ev) { s.balance -= ev.amount; },
               [&](const account_closed&) { s.closed = true; },
             },
             e);
  return s;
}

} // namespace bank
