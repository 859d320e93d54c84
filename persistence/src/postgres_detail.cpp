#include "postgres_detail.hpp"

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

void pg_array_builder::add(const std::string& item) {
  separate();
  text_ += '"';
  put(item);
  text_ += '"';
}

// Array-literal content: a quote or backslash needs a backslash.
void pg_array_builder::put(char c) {
  if (c == '"' || c == '\\')
    text_ += '\\';
  text_ += c;
}

void pg_array_builder::put(std::string_view s) {
  // Runs without a quote or backslash go in whole.
  size_t from = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '"' && s[i] != '\\')
      continue;
    text_.append(s.data() + from, i - from);
    text_ += '\\';
    from = i; // the character itself starts the next run
  }
  text_.append(s.data() + from, s.size() - from);
}

void pg_array_builder::add_json(const json& value) {
  separate();
  text_ += '"';
  put_json(value);
  text_ += '"';
}

void pg_array_builder::put_json(const json& value) {
  switch (value.type()) {
    case json::value_t::object: {
      put('{');
      bool first = true;
      for (const auto& [key, item] : value.get_ref<const json::object_t&>()) {
        if (!first)
          put(',');
        first = false;
        put_json_string(key);
        put(':');
        put_json(item);
      }
      put('}');
      return;
    }
    case json::value_t::array: {
      put('[');
      bool first = true;
      for (const auto& item : value.get_ref<const json::array_t&>()) {
        if (!first)
          put(',');
        first = false;
        put_json(item);
      }
      put(']');
      return;
    }
    case json::value_t::string:
      put_json_string(value.get_ref<const std::string&>());
      return;
    case json::value_t::number_integer:
      text_ += std::to_string(value.get<int64_t>());
      return;
    case json::value_t::number_unsigned:
      text_ += std::to_string(value.get<uint64_t>());
      return;
    case json::value_t::boolean:
      put(value.get<bool>() ? "true" : "false");
      return;
    case json::value_t::null:
    case json::value_t::discarded:
      put("null");
      return;
    default: // floats (shortest round-trip form) and binary
      put(value.dump());
  }
}

void pg_array_builder::put_json_string(const std::string& s) {
  static constexpr char hex[] = "0123456789abcdef";
  // JSON escapes first, then the array literal's (a backslash or quote of
  // the JSON text needs one more backslash). Plain runs go in whole.
  text_ += "\\\"";
  size_t from = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\')
      continue; // UTF-8 bytes pass through
    text_.append(s.data() + from, i - from);
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
  text_.append(s.data() + from, s.size() - from);
  text_ += "\\\"";
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
