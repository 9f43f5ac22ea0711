// Located error messages for scenario input, and the exception that carries
// all of them.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ccpnet::config {

// A position in a source file, 1-based. line == 0 means "not from the file"
// (for example a value given with --set), then `origin` says where it came from.
struct Location {
  int line = 0;
  int column = 0;
  std::string origin;  // overrides the file name when not empty
};

struct Diagnostic {
  std::string file;
  Location where;
  std::string path;     // key path, e.g. "ccps[1].margin.confidence"
  std::string message;  // what was expected and what was found

  // "FILE:LINE:COL: PATH: MESSAGE"
  std::string format() const;
};

// Every error of one input, in file order.
class Diagnostics {
 public:
  static constexpr std::size_t kMaxErrors = 200;

  explicit Diagnostics(std::string file = "<input>") : file_(std::move(file)) {}

  void error(const Location& where, std::string path, std::string message);
  bool empty() const { return errors_.empty(); }
  // For a caller about to report an error: true when no more errors are kept,
  // and the error counts as dropped ("too many errors"). The caller then
  // skips composing a message that would be thrown away.
  bool full() {
    if (errors_.size() < kMaxErrors) return false;
    truncated_ = true;
    return true;
  }
  std::size_t size() const { return errors_.size(); }
  const std::vector<Diagnostic>& errors() const { return errors_; }
  std::vector<Diagnostic>& errors() { return errors_; }
  const std::string& file() const { return file_; }
  bool truncated() const { return truncated_; }

  // All messages, one per line, sorted by position.
  std::string format() const;

 private:
  std::string file_;
  std::vector<Diagnostic> errors_;
  bool truncated_ = false;
};

// Where each key path was read from, so that checks made after reading
// (duplicate ids, dangling references, matrix properties) are located too.
class SourceMap {
 public:
  void record(const std::string& path, const Location& where) { marks_.emplace(path, where); }
  // The location of `path`, or of its nearest recorded ancestor.
  Location find(std::string_view path) const;
  // Every recorded path at or below `prefix` came from `origin` (a --set
  // override): its location becomes {0, 0, origin}.
  void attribute(std::string_view prefix, const std::string& origin);

 private:
  std::unordered_map<std::string, Location> marks_;
};

// Thrown by loading when the input has errors; what() lists all of them.
class ScenarioError : public std::runtime_error {
 public:
  explicit ScenarioError(Diagnostics diagnostics);
  const Diagnostics& diagnostics() const { return diagnostics_; }

 private:
  Diagnostics diagnostics_;
};

// `text` as quoted in a message: on one line (\n, \r and \t escaped), at most
// `max` bytes, "..." when cut.
std::string excerpt(std::string_view text, std::size_t max = 40);

// True when `path` is `prefix` or a key path below it ("a.b" is below "a",
// and so is "a[0]"; "ab" is not).
bool path_within(std::string_view path, std::string_view prefix);

// Edit distance counting an insertion, a deletion, a substitution and a swap
// of two neighbouring characters as one edit each (optimal string alignment),
// for "did you mean ...?" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The closest candidate to `word`, or empty when none is close enough (at most
// max(1, length / 3) edits away).
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace ccpnet::config
