#include "sim/signals.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

#include "sim/output_dir.hpp"

namespace ccpnet {

namespace {

constexpr std::array<int, 3> kSignals{SIGINT, SIGTERM, SIGHUP};

int g_pipe[2] = {-1, -1};
std::atomic<int> g_first{0};       // the first signal delivered, noted by the handlers
std::atomic<bool> g_acted{false};  // the watcher has acted on a signal
static_assert(std::atomic<int>::is_always_lock_free, "the handlers use it");
std::atomic<std::atomic<bool>*> g_stop{nullptr};

const char* signal_name(int s) {
  switch (s) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    default: return "a signal";
  }
}

extern "C" void on_signal(int s) {
  const int saved = errno;
  int none = 0;
  g_first.compare_exchange_strong(none, s);
  const auto byte = static_cast<unsigned char>(s);
  [[maybe_unused]] const ssize_t n = ::write(g_pipe[1], &byte, 1);
  errno = saved;
}

// Once the watcher has stopped: the process ends at once (async-signal-safe).
extern "C" void on_late_signal(int s) {
  int none = 0;
  g_first.compare_exchange_strong(none, s);
  std::_Exit(128 + g_first.load());
}

void say(const std::string& text) {
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
}

// Acts on one signal, on the watcher's thread.
void act(int s) {
  const bool is_first = !g_acted.exchange(true);
  if (std::atomic<bool>* stop = g_stop.load(); is_first && stop) {
    stop->store(true);
    say(std::string("\nccpnet: ") + signal_name(s) +
        ": stopping; the output will hold the scenarios completed so far (another signal abandons it)\n");
    return;
  }
  abandon_staging_directories();     // waits for an output being moved into place
  std::_Exit(128 + g_first.load());  // the first signal's code, also when this one is a later one
}

std::thread g_thread;

}  // namespace

SignalWatcher::SignalWatcher() {
  if (::pipe2(g_pipe, O_CLOEXEC) != 0) throw std::runtime_error("cannot create a pipe for signals");
  g_first = 0;
  g_acted = false;
  g_thread = std::thread([] {
    while (true) {
      unsigned char byte = 0;
      const ssize_t n = ::read(g_pipe[0], &byte, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || byte == 0) return;
      act(byte);
    }
  });
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (const int s : kSignals) sigaction(s, &action, nullptr);
}

SignalWatcher::~SignalWatcher() {
  // The command is over; a signal from now on (a second Ctrl-C after the output
  // was written, mpirun's SIGTERM in MPI_Finalize) ends the process at once with
  // the first signal's code: neither ignored nor a death by signal.
  struct sigaction late {};
  late.sa_handler = on_late_signal;
  sigemptyset(&late.sa_mask);
  for (const int s : kSignals) sigaction(s, &late, nullptr);
  const unsigned char quit = 0;
  [[maybe_unused]] const ssize_t n = ::write(g_pipe[1], &quit, 1);
  g_thread.join();
  ::close(g_pipe[0]);
  ::close(g_pipe[1]);
  g_pipe[0] = g_pipe[1] = -1;
}

int SignalWatcher::received() { return g_acted.load() ? g_first.load() : 0; }

int SignalWatcher::exit_code() { return 128 + (received() ? received() : SIGINT); }

Interruptible::Interruptible(std::atomic<bool>& stop) {
  stop = false;
  g_stop = &stop;
}

Interruptible::~Interruptible() { g_stop = nullptr; }

}  // namespace ccpnet
