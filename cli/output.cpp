#include "output.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>

namespace es::cli {

namespace {

// Returns true for an integer such as "42" or "-7".
bool numeric(const std::string& s) {
  auto digits = s.find_first_not_of('-') == 1 ? s.substr(1) : s;
  return !digits.empty()
         && std::all_of(digits.begin(), digits.end(),
                        [](unsigned char c) { return std::isdigit(c); });
}

// Returns the password in a URI ("scheme://user:pw@host") or key=value
// string ("password=pw"); empty when there is none.
std::string password_of(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme != std::string::npos) {
    auto at = url.find('@', scheme + 3);
    auto colon = url.find(':', scheme + 3);
    if (at != std::string::npos && colon < at)
      return url.substr(colon + 1, at - colon - 1);
    auto q = url.find("password=");
    if (q == std::string::npos)
      return {};
    auto end = url.find('&', q);
    return url.substr(q + 9, end == std::string::npos ? end : end - q - 9);
  }
  auto q = url.find("password");
  if (q == std::string::npos)
    return {};
  auto eq = url.find('=', q);
  if (eq == std::string::npos)
    return {};
  auto start = url.find_first_not_of(' ', eq + 1);
  if (start == std::string::npos)
    return {};
  if (url[start] == '\'') {
    auto end = url.find('\'', start + 1);
    return url.substr(start + 1, end == std::string::npos ? end
                                                          : end - start - 1);
  }
  auto end = url.find(' ', start);
  return url.substr(start, end == std::string::npos ? end : end - start);
}

std::string hint_for(es::ec code) {
  switch (code) {
    case es::ec::unavailable:
      return "check that PostgreSQL runs and that --db or ES_DATABASE_URL "
             "is right, then try again";
    case es::ec::invalid_argument:
      return "check the arguments (run 'eventsource migrate' if the schema "
             "is not migrated)";
    case es::ec::not_found:
      return "check the name or id";
    default:
      return {};
  }
}

} // namespace

table::table(std::vector<std::string> header, bool align_numbers)
  : align_numbers_(align_numbers) {
  rows_.push_back(std::move(header));
}

void table::add(std::vector<std::string> row) {
  row.resize(rows_.front().size());
  rows_.push_back(std::move(row));
}

void table::print(std::ostream& out) const {
  std::vector<size_t> width(rows_.front().size(), 0);
  for (const auto& row : rows_)
    for (size_t i = 0; i < row.size(); ++i)
      width[i] = std::max(width[i], row[i].size());
  for (size_t r = 0; r < rows_.size(); ++r) {
    std::string line;
    for (size_t i = 0; i < width.size(); ++i) {
      const auto& cell = rows_[r][i];
      std::string pad(width[i] - cell.size(), ' ');
      bool last = i + 1 == width.size();
      if (r > 0 && align_numbers_ && numeric(cell))
        line += pad + cell;
      else
        line += last ? cell : cell + pad;
      if (!last)
        line += "  ";
    }
    out << line << '\n';
  }
  if (rows_.size() == 1)
    out << "(none)\n";
}

json event_json(const es::persistence::recorded_event& e) {
  return json{{"position", e.global_position},
              {"event_id", e.event_id.to_string()},
              {"stream_id", e.stream_id},
              {"stream_type", e.stream_type},
              {"version", e.version},
              {"type", e.event_type},
              {"schema_version", e.schema_version},
              {"data", e.payload},
              {"metadata", e.metadata},
              {"recorded_at", to_iso8601(e.recorded_at)}};
}

std::string mask_password(std::string text, const std::string& url) {
  auto password = password_of(url);
  if (password.empty())
    return text;
  for (auto pos = text.find(password); pos != std::string::npos;
       pos = text.find(password, pos + 3))
    text.replace(pos, password.size(), "***");
  return text;
}

std::string one_line(std::string text) {
  for (auto& c : text)
    if (c == '\n' || c == '\t' || c == '\r')
      c = ' ';
  for (auto pos = text.find("  "); pos != std::string::npos;
       pos = text.find("  ", pos))
    text.erase(pos, 1);
  while (!text.empty() && text.back() == ' ')
    text.pop_back();
  return text;
}

int context::fail(const std::string& what, const std::string& reason,
                  const std::string& hint) const {
  auto line = "eventsource: " + what + ": " + reason;
  if (!hint.empty())
    line += "; " + hint;
  std::cerr << mask_password(one_line(line), url) << std::endl;
  return exit_failure;
}

int context::fail(const std::string& what, const es::error& err) const {
  if (!node.empty() && err.code() == es::ec::unavailable)
    return fail(what, err.to_string(),
                "check that the node runs on that port (e.g. 'bank serve "
                "--node-port PORT'), that --node is right and, for a node "
                "that runs TLS, the --tls-* files");
  return fail(what, err.to_string(), hint_for(err.code()));
}

} // namespace es::cli
