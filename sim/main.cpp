// The ccpnet command line: a thin front end over the sim library.
#include <cstdio>
#include <cstdlib>  // defines __GLIBC__ with the C library
#include <cstring>
#include <optional>
#include <string>

#include "sim/cli/cli.hpp"

#if defined(__GLIBC__)
#include <gnu/libc-version.h>
#include <malloc.h>
#include <unistd.h>
#endif

namespace {

// glibc raises its mmap threshold each time a mapped block is freed, so the
// per-batch buffers that the workers allocate and the folding thread frees
// come to be carved from the heap, which then fragments: the maximum RSS of a
// long run crept up with the scenario count (+13% from 10^6 to 4 x 10^6
// stressed scenarios of the reference network, with the live heap flat).
// A fixed threshold keeps blocks of 256 KiB and more mapped and returned on
// free; setting it turns the adjustment off. It also fixes the trim threshold
// at 128 KiB, so that the heap gave its top back to the system after each
// burst of small frees and faulted it in again on the next (a tenth of the
// model's start-up went to brk and page faults): 32 MiB of free heap top may
// stay, a bound that does not grow with the run.
// The heap also grew a page or a few at a time (thousands of brk and mprotect
// calls while the first windows of results were set up), and on a virtual
// machine each page fault costs far more than a profile shows: a 64 MiB pad
// on every growth, kept when trimming, halves the faults of a 10-day run and
// gives 8-10% more scenarios per second (reference network, 2 threads), for
// about 20 MiB more resident memory.
void keep_large_blocks_mapped() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  mallopt(M_TRIM_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TOP_PAD, 64 * 1024 * 1024);
#endif
}

#if defined(__GLIBC__) && defined(__linux__)
// glibc 2.35 or later: the first with glibc.malloc.hugetlb.
bool glibc_has_hugetlb() {
  int major = 0, minor = 0;
  return std::sscanf(gnu_get_libc_version(), "%d.%d", &major, &minor) == 2 && (major > 2 || minor >= 35);
}

// The kernel gives transparent huge pages to memory that asks for them only
// (THP mode "madvise"): under "always" it gives them anyway, and glibc then
// asks for nothing; under "never" there are none to give.
bool huge_pages_on_request() {
  std::FILE* f = std::fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
  if (f == nullptr) return false;
  char mode[128] = {};
  const bool read = std::fgets(mode, sizeof mode, f) != nullptr;
  std::fclose(f);
  return read && std::strstr(mode, "[madvise]") != nullptr;
}

// The program's own path, not /proc/self/exe, so that the process run again
// keeps its name (ps, pgrep); empty if it cannot be read.
std::string own_path() {
  std::string self(4096, '\0');
  const ssize_t n = readlink("/proc/self/exe", self.data(), self.size() - 1);
  if (n <= 0 || static_cast<std::size_t>(n) >= self.size() - 1) return {};
  self.resize(static_cast<std::size_t>(n));
  return self;
}
#endif

// Transparent huge pages. Where the kernel gives 2 MiB pages only to memory
// that asks for them (THP mode "madvise"; "always" gives them anyway), glibc
// asks for its heap and mapped blocks when the tunable glibc.malloc.hugetlb=1
// is set (glibc 2.35 and later), and tunables are read from the environment
// when a process starts: so ccpnet sets it and runs itself again, once,
// before anything else. Each page fault then maps 2 MiB rather than 4 KiB,
// and on a virtual machine a fault costs far more than the profile shows: on
// the reference network, 2 threads, the engine ran 4-12% more scenarios per
// second in every regime and whole runs took 9-25% less wall time (the
// model's start-up about half as long on a network of 4,000 members per
// CCP), for 3-20 MiB more resident memory. A GLIBC_TUNABLES that already
// names the tunable is kept as it is: glibc.malloc.hugetlb=0 turns this off.
// In the kernel's other THP modes the second run (a process start, some
// 20-40 ms) would buy nothing: there is none. If the program cannot run
// itself again, it goes on as it is.
void exec_with_huge_pages([[maybe_unused]] char** argv) {
#if defined(__GLIBC__) && defined(__linux__)
  // The second run knows itself by this variable (glibc may rewrite the
  // tunables' string when it reads it), and takes it out again.
  constexpr const char* kRunAgain = "CCPNET_HUGE_PAGES";
  if (std::getenv(kRunAgain) != nullptr) {
    unsetenv(kRunAgain);
    return;
  }
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if ((tunables != nullptr && std::strstr(tunables, "glibc.malloc.hugetlb") != nullptr) || !glibc_has_hugetlb() ||
      !huge_pages_on_request())
    return;
  const std::string self = own_path();
  if (self.empty()) return;
  const std::optional<std::string> before = tunables ? std::optional<std::string>(tunables) : std::nullopt;
  const std::string value = before && !before->empty() ? *before + ":glibc.malloc.hugetlb=1" : "glibc.malloc.hugetlb=1";
  if (setenv(kRunAgain, "1", 1) == 0 && setenv("GLIBC_TUNABLES", value.c_str(), 1) == 0) execv(self.c_str(), argv);
  // Not run again: the environment as it was.
  unsetenv(kRunAgain);
  if (before)
    setenv("GLIBC_TUNABLES", before->c_str(), 1);
  else
    unsetenv("GLIBC_TUNABLES");
#endif
}

}  // namespace

int main(int argc, char** argv) {
  exec_with_huge_pages(argv);
  keep_large_blocks_mapped();
  return ccpnet::cli::main(argc, argv);
}
