#include "postgres_detail.hpp"

#include <cstring>

namespace es::persistence::detail {

namespace {

bool is_uri(const std::string& url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}

std::string with_timeout(const std::string& url, int seconds) {
  if (url.find("connect_timeout") != std::string::npos || seconds <= 0)
    return url;
  auto param = "connect_timeout=" + std::to_string(seconds);
  if (!is_uri(url))
    return url + " " + param;
  return url + (url.find('?') == std::string::npos ? "?" : "&") + param;
}

// Returns libpq's (often multi-line) message as one line.
std::string trimmed(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n' || c == '\t') {
      if (!out.empty() && out.back() != ' ')
        out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

} // namespace

std::unique_ptr<pqxx::connection> pg_connect(const std::string& url,
                                             const postgres_options& opts) {
  auto conn = std::make_unique<pqxx::connection>(
    with_timeout(url, opts.connect_timeout_seconds));
  if (!opts.schema.empty()) {
    pqxx::nontransaction txn{*conn};
    txn.exec("SET search_path TO " + txn.quote_name(opts.schema));
  }
  return conn;
}

bool pg_connection_lost(const std::exception& ex) {
  if (dynamic_cast<const pqxx::in_doubt_error*>(&ex)
      || dynamic_cast<const pqxx::broken_connection*>(&ex))
    return true;
  if (auto sql = dynamic_cast<const pqxx::sql_error*>(&ex)) {
    const auto& state = sql->sqlstate();
    return state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0;
  }
  return false;
}

es::error pg_error(const std::exception& ex, bool& drop_connection) {
  auto unavailable = [&](const std::string& prefix) {
    return es::error{ec::unavailable, prefix + trimmed(ex.what())};
  };
  drop_connection = false;
  if (dynamic_cast<const pqxx::in_doubt_error*>(&ex)) {
    drop_connection = true;
    return unavailable("connection lost during commit, outcome unknown (an "
                       "exact retry of the same append is safe): ");
  }
  if (pg_connection_lost(ex)) {
    drop_connection = true;
    return unavailable("database unavailable: ");
  }
  if (auto sql = dynamic_cast<const pqxx::sql_error*>(&ex)) {
    const auto& state = sql->sqlstate();
    if (state == "23505")
      return {ec::conflict, trimmed(ex.what())};
    return unavailable("database error " + state + ": ");
  }
  if (dynamic_cast<const pqxx::transaction_rollback*>(&ex))
    return unavailable("transaction rolled back, retry: ");
  drop_connection = true;
  return unavailable("database error: ");
}

std::string pg_channel_sql(const std::string& schema, const char* suffix) {
  return "(CASE WHEN octet_length(" + schema + ") <= 48 THEN " + schema
         + "::text ELSE md5(" + schema + ") END || '." + suffix + "')";
}

void pg_array_builder::separate() {
  if (text_.size() > 1)
    text_ += ',';
}

namespace {

// Returns the first index from `i` on whose 8-byte word may hold a byte a
// JSON string escapes (a control character, quote or backslash); `s.size()`
// when none does.
size_t plain_run_end(const std::string& s, size_t i) {
  constexpr uint64_t ones = 0x0101010101010101ULL;
  constexpr uint64_t high = 0x8080808080808080ULL;
  auto has_zero = [](uint64_t x) { return (x - ones) & ~x & high; };
  for (uint64_t w; i + 8 <= s.size(); i += 8) {
    std::memcpy(&w, s.data() + i, 8);
    // Bytes below 0x20 (high bytes of UTF-8 excluded), '"' and '\\'.
    if (((w - ones * 0x20) & ~w & high) | has_zero(w ^ (ones * '"'))
        | has_zero(w ^ (ones * '\\')))
      return i;
  }
  return i < s.size() ? i : s.size();
}

// Writes JSON text into `out`, escaping each of its characters for the
// outer format; plain runs go in whole.
struct json_writer {
  std::string& out;
  bool quotes; // array elements escape quotes as well as backslashes

  bool special(char c) const {
    return c == '\\' || (quotes && c == '"');
  }

  void put(char c) {
    if (special(c))
      out += '\\';
    out += c;
  }

  void put(std::string_view s) {
    size_t from = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      if (!special(s[i]))
        continue;
      out.append(s.data() + from, i - from);
      out += '\\';
      from = i; // the character itself starts the next run
    }
    out.append(s.data() + from, s.size() - from);
  }

  void string(const std::string& s) {
    static constexpr char hex[] = "0123456789abcdef";
    put('"');
    size_t from = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      i = plain_run_end(s, i);
      if (i == s.size())
        break;
      auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x20 && c != '"' && c != '\\')
        continue; // UTF-8 bytes pass through
      out.append(s.data() + from, i - from);
      from = i + 1;
      switch (c) {
        case '"':
          put("\\\"");
          break;
        case '\\':
          put("\\\\");
          break;
        case '\n':
          put("\\n");
          break;
        case '\r':
          put("\\r");
          break;
        case '\t':
          put("\\t");
          break;
        default:
          put("\\u00");
          put(hex[c >> 4]);
          put(hex[c & 0xf]);
      }
    }
    out.append(s.data() + from, s.size() - from);
    put('"');
  }

  void value(const json& v) {
    switch (v.type()) {
      case json::value_t::object: {
        out += '{';
        bool first = true;
        for (const auto& [key, item] : v.get_ref<const json::object_t&>()) {
          if (!first)
            out += ',';
          first = false;
          string(key);
          out += ':';
          value(item);
        }
        out += '}';
        return;
      }
      case json::value_t::array: {
        out += '[';
        bool first = true;
        for (const auto& item : v.get_ref<const json::array_t&>()) {
          if (!first)
            out += ',';
          first = false;
          value(item);
        }
        out += ']';
        return;
      }
      case json::value_t::string:
        string(v.get_ref<const std::string&>());
        return;
      case json::value_t::number_integer:
        out += std::to_string(v.get<int64_t>());
        return;
      case json::value_t::number_unsigned:
        out += std::to_string(v.get<uint64_t>());
        return;
      case json::value_t::boolean:
        out += v.get<bool>() ? "true" : "false";
        return;
      case json::value_t::null:
      case json::value_t::discarded:
        out += "null";
        return;
      default: // floats (shortest round-trip form) and binary
        put(v.dump());
    }
  }
};

} // namespace

void put_json(std::string& out, const json& value, json_context where) {
  json_writer{out, where == json_context::array_element}.value(value);
}

void pg_array_builder::add(const std::string& item) {
  separate();
  text_ += '"';
  json_writer{text_, true}.put(item);
  text_ += '"';
}

void pg_array_builder::add_json(const json& value) {
  separate();
  text_ += '"';
  put_json(text_, value, json_context::array_element);
  text_ += '"';
}

void pg_array_builder::add_plain(const std::string& item) {
  separate();
  text_ += item;
}

void pg_array_builder::add_number(int64_t x) {
  separate();
  text_ += std::to_string(x);
}

std::string pg_array_builder::take() {
  text_ += '}';
  auto out = std::move(text_);
  text_ = "{";
  return out;
}

std::string pg_array(const std::vector<std::string>& items) {
  pg_array_builder out;
  for (const auto& item : items)
    out.add(item);
  return out.take();
}

} // namespace es::persistence::detail
