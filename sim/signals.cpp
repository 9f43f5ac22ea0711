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
std::atomic<int> g_received{0};
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
  const auto byte = static_cast<unsigned char>(s);
  [[maybe_unused]] const ssize_t n = ::write(g_pipe[1], &byte, 1);
  errno = saved;
}

void say(const std::string& text) {
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
}

// Acts on one signal, on the watcher's thread.
void act(int s) {
  int first = 0;
  const bool is_first = g_received.compare_exchange_strong(first, s);
  if (std::atomic<bool>* stop = g_stop.load(); is_first && stop) {
    stop->store(true);
    say(std::string("\nccpnet: ") + signal_name(s) +
        ": stopping; the output will hold the scenarios completed so far (another signal abandons it)\n");
    return;
  }
  abandon_staging_directories();  // waits for an output being moved into place
  std::_Exit(128 + s);
}

std::array<struct sigaction, kSignals.size()> g_previous{};
std::thread g_thread;

}  // namespace

SignalWatcher::SignalWatcher() {
  if (::pipe2(g_pipe, O_CLOEXEC) != 0) throw std::runtime_error("cannot create a pipe for signals");
  g_received = 0;
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
  for (std::size_t i = 0; i < kSignals.size(); ++i) sigaction(kSignals[i], &action, &g_previous[i]);
}

SignalWatcher::~SignalWatcher() {
  // Once a signal has been acted on, the process is on its way out with 128 + that
  // signal; a later one (a second Ctrl-C after the output was written) must not
  // turn that exit into a death by signal, so it is ignored from here on.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  const bool finishing = g_received.load() != 0;
  for (std::size_t i = 0; i < kSignals.size(); ++i)
    sigaction(kSignals[i], finishing ? &ignore : &g_previous[i], nullptr);
  const unsigned char quit = 0;
  [[maybe_unused]] const ssize_t n = ::write(g_pipe[1], &quit, 1);
  g_thread.join();
  ::close(g_pipe[0]);
  ::close(g_pipe[1]);
  g_pipe[0] = g_pipe[1] = -1;
}

int SignalWatcher::received() { return g_received.load(); }

int SignalWatcher::exit_code() { return 128 + (received() ? received() : SIGINT); }

Interruptible::Interruptible(std::atomic<bool>& stop) {
  stop = false;
  g_stop = &stop;
}

Interruptible::~Interruptible() { g_stop = nullptr; }

}  // namespace ccpnet
