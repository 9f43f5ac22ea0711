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
  std::size_t size() const { return errors_.size(); }
  const std::vector<Diagnostic>& errors() const { return errors_; }
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

// Levenshtein distance, for "did you mean ...?" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The closest candidate to `word`, or empty when none is close enough.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace ccpnet::config
