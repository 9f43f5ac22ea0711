#include "sim/config/diagnostics.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace ccpnet::config {

std::string Diagnostic::format() const {
  const std::string& source = where.origin.empty() ? file : where.origin;
  std::string loc =
      where.line > 0 ? fmt::format("{}:{}:{}", source, where.line, where.column) : fmt::format("{}:0:0", source);
  if (path.empty()) return fmt::format("{}: {}", loc, message);
  return fmt::format("{}: {}: {}", loc, path, message);
}

void Diagnostics::error(const Location& where, std::string path, std::string message) {
  if (errors_.size() >= kMaxErrors) {
    truncated_ = true;
    return;
  }
  errors_.push_back(Diagnostic{file_, where, std::move(path), std::move(message)});
}

std::string Diagnostics::format() const {
  std::vector<const Diagnostic*> sorted;
  sorted.reserve(errors_.size());
  for (const auto& d : errors_) sorted.push_back(&d);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic* a, const Diagnostic* b) {
    // The file's errors first, then those located in the data files it names
    // (file by file), then those from --set overrides (line 0).
    const auto rank = [](const Location& w) { return w.line == 0 ? 2 : w.origin.empty() ? 0 : 1; };
    if (rank(a->where) != rank(b->where)) return rank(a->where) < rank(b->where);
    if (rank(a->where) == 2) return false;
    if (a->where.origin != b->where.origin) return a->where.origin < b->where.origin;
    if (a->where.line != b->where.line) return a->where.line < b->where.line;
    return a->where.column < b->where.column;
  });
  std::string out;
  for (const auto* d : sorted) {
    out += d->format();
    out += '\n';
  }
  if (truncated_) out += fmt::format("{}: too many errors, stopped after {}\n", file_, kMaxErrors);
  return out;
}

Location SourceMap::find(std::string_view path) const {
  std::string key(path);
  while (true) {
    if (auto it = marks_.find(key); it != marks_.end()) return it->second;
    const auto cut = key.find_last_of(".[");
    if (cut == std::string::npos || cut == 0) break;
    key.resize(cut);
  }
  if (auto it = marks_.find(""); it != marks_.end()) return it->second;
  return Location{1, 1, {}};
}

void SourceMap::attribute(std::string_view prefix, const std::string& origin) {
  for (auto& [path, where] : marks_) {
    if (path_within(path, prefix)) where = Location{0, 0, origin};
  }
}

std::string excerpt(std::string_view text, std::size_t max) {
  // One message, one line: line breaks and tabs are shown escaped.
  std::string out;
  for (std::size_t i = 0; i < text.size() && out.size() <= max; ++i) {
    switch (text[i]) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: out += text[i];
    }
  }
  if (out.size() <= max) return out;
  std::size_t cut = max > 3 ? max - 3 : 0;
  // Do not cut a UTF-8 character in two.
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  out.resize(cut);
  return out + "...";
}

bool path_within(std::string_view path, std::string_view prefix) {
  if (path.size() < prefix.size() || path.substr(0, prefix.size()) != prefix) return false;
  if (path.size() == prefix.size() || prefix.empty()) return true;
  return path[prefix.size()] == '.' || path[prefix.size()] == '[';
}

ScenarioError::ScenarioError(Diagnostics diagnostics)
    : std::runtime_error(diagnostics.format()), diagnostics_(std::move(diagnostics)) {}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Three rows of the dynamic programme: the swap looks two rows back.
  std::vector<std::size_t> before(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) cur[j] = std::min(cur[j], before[j - 2] + 1);
    }
    std::swap(before, prev);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  const std::size_t limit = std::max<std::size_t>(1, word.size() / 3);
  std::string best;
  std::size_t best_distance = limit + 1;
  for (const auto& c : candidates) {
    // The distance is at least the difference in length: skip without work
    // (a hostile key can be megabytes long).
    const std::size_t gap = c.size() > word.size() ? c.size() - word.size() : word.size() - c.size();
    if (gap >= best_distance) continue;
    const std::size_t d = edit_distance(word, c);
    if (d < best_distance && d < word.size()) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

}  // namespace ccpnet::config
