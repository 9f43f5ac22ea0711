// The ccpnet command line: a thin front end over the sim library.
#include <cstdlib>  // defines __GLIBC__ with the C library

#include "sim/cli/cli.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
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

}  // namespace

int main(int argc, char** argv) {
  keep_large_blocks_mapped();
  return ccpnet::cli::main(argc, argv);
}
