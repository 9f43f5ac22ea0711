// The progress bar of long runs on stderr (only when it is a terminal), one
// line redrawn in place, never wider than the terminal: a narrow terminal
// first shortens the bar, then drops the rate and the ETA, so that the line
// never wraps (a wrapped line is redrawn as a new line at every update).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace ccpnet {

// The line for `done` of `total` scenarios at `rate` per second, at most
// `columns - 1` characters (the last column stays free: some terminals wrap
// on writing it).
std::string progress_line(std::int64_t done, std::int64_t total, double rate, double eta_seconds, int columns);

// The terminal's width in columns: the TIOCGWINSZ of stderr, else $COLUMNS,
// else 80.
int terminal_columns();

class ProgressBar {
 public:
  ProgressBar(bool enabled, std::int64_t total);
  void update(std::int64_t done);
  void finish();
  double seconds() const;

 private:
  bool enabled_;
  std::int64_t total_;
  std::size_t last_length_ = 0;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace ccpnet
