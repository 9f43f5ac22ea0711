#include "sim/progress.hpp"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace ccpnet {

namespace {
std::string grouped(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}
}  // namespace

std::string progress_line(std::int64_t done, std::int64_t total, double rate, double eta_seconds, int columns) {
  const int room = std::max(columns - 1, 1);
  const double share = total > 0 ? std::clamp(static_cast<double>(done) / static_cast<double>(total), 0.0, 1.0) : 1.0;
  // The fields after the bar, longest first: drop from the end until the line fits.
  const std::vector<std::string> fields{fmt::format("{}/{} scenarios", grouped(done), grouped(total)),
                                        fmt::format("{:.0f}/s", rate), fmt::format("ETA {:.0f}s", eta_seconds)};
  for (std::size_t kept = fields.size(); kept > 0; --kept) {
    std::string tail;
    for (std::size_t k = 0; k < kept; ++k) tail += (k == 0 ? " " : "  ") + fields[k];
    const int bar = std::min(30, room - static_cast<int>(tail.size()) - 2);
    if (bar >= 10 || (kept == 1 && bar >= 0)) {
      const auto filled = static_cast<std::size_t>(bar * share);
      return "[" + std::string(filled, '#') + std::string(static_cast<std::size_t>(bar) - filled, '.') + "]" + tail;
    }
  }
  const std::string percent = fmt::format("{:.0f}%", 100.0 * share);
  return percent.substr(0, static_cast<std::size_t>(room));
}

int terminal_columns() {
  winsize size{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  if (const char* columns = std::getenv("COLUMNS")) {
    const int n = std::atoi(columns);
    if (n > 0) return n;
  }
  return 80;
}

ProgressBar::ProgressBar(bool enabled, std::int64_t total)
    : enabled_(enabled && isatty(STDERR_FILENO)), total_(total), start_(std::chrono::steady_clock::now()) {}

void ProgressBar::update(std::int64_t done) {
  if (!enabled_) return;
  const double elapsed = seconds();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
  // Read the width at every update: the terminal may be resized during a run.
  const std::string line = progress_line(done, total_, rate, eta, terminal_columns());
  // Blank what a longer previous line left.
  const std::size_t pad = last_length_ > line.size() ? last_length_ - line.size() : 0;
  std::fprintf(stderr, "\r%s%s", line.c_str(), std::string(pad, ' ').c_str());
  std::fflush(stderr);
  last_length_ = line.size();
}

void ProgressBar::finish() {
  if (enabled_) std::fprintf(stderr, "\n");
}

double ProgressBar::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

}  // namespace ccpnet
