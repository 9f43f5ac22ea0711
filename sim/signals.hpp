// SIGINT, SIGTERM and SIGHUP: what they do to a command.
//
// While a run is under way (an Interruptible lives), the first of them stops
// the run after the scenarios under way and the command writes a valid partial
// output; a second one abandons it: the staging directory is removed (the
// previous output stays as it was) and the process exits. At any other time a
// signal ends the process at once, in the same way. The exit code is always
// 128 + the number of the first signal (130 for SIGINT, 143 for SIGTERM, 129
// for SIGHUP), also when a later one ends the process.
//
// The handlers only note the first signal and write the signal's number into
// a pipe; a thread reads it and acts, so that what it does need not be
// async-signal-safe.
#pragma once

#include <atomic>

namespace ccpnet {

class SignalWatcher {
 public:
  SignalWatcher();   // installs the handlers and starts the thread
  ~SignalWatcher();  // stops the thread; a signal from then on ends the process at once
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

  // The first signal received, or 0.
  static int received();
  // 128 + the first signal received (SIGINT when none was: another MPI rank's).
  static int exit_code();
};

// While it lives, the first signal sets `stop` instead of ending the process.
class Interruptible {
 public:
  explicit Interruptible(std::atomic<bool>& stop);
  ~Interruptible();
  Interruptible(const Interruptible&) = delete;
  Interruptible& operator=(const Interruptible&) = delete;
};

}  // namespace ccpnet
