#include "sim/distributed.hpp"

#include <cstdlib>
#include <stdexcept>

#ifdef CCPNET_HAVE_MPI
#include <mpi.h>
#endif

namespace ccpnet {

namespace {
bool launched_by_mpi() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"})
    if (std::getenv(var)) return true;
  return false;
}
}  // namespace

Distributed::Distributed(int* argc, char*** argv) {
#ifdef CCPNET_HAVE_MPI
  if (launched_by_mpi()) {
    MPI_Init(argc, argv);
    initialised_ = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
#else
  (void)argc;
  (void)argv;
#endif
}

Distributed::~Distributed() {
#ifdef CCPNET_HAVE_MPI
  if (initialised_) MPI_Finalize();
#endif
}

std::pair<std::int64_t, std::int64_t> Distributed::range(std::int64_t total, std::int64_t chunk) const {
  const std::int64_t chunks = (total + chunk - 1) / chunk;
  const std::int64_t c0 = chunks * rank_ / size_, c1 = chunks * (rank_ + 1) / size_;
  const std::int64_t first = std::min(total, c0 * chunk), last = std::min(total, c1 * chunk);
  return {first, last - first};
}

std::string Distributed::broadcast(const std::string& value) const {
#ifdef CCPNET_HAVE_MPI
  if (initialised_ && size_ > 1) {
    long long n = static_cast<long long>(value.size());
    MPI_Bcast(&n, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
    std::string out = root() ? value : std::string(static_cast<std::size_t>(n), '\0');
    MPI_Bcast(out.data(), static_cast<int>(n), MPI_CHAR, 0, MPI_COMM_WORLD);
    return out;
  }
#endif
  return value;
}

std::vector<std::vector<char>> Distributed::gather(const std::vector<char>& bytes) const {
  std::vector<std::vector<char>> out;
#ifdef CCPNET_HAVE_MPI
  if (initialised_ && size_ > 1) {
    if (bytes.size() > static_cast<std::size_t>(1) << 31) throw std::runtime_error("MPI message too large");
    int n = static_cast<int>(bytes.size());
    std::vector<int> sizes(static_cast<std::size_t>(size_));
    MPI_Gather(&n, 1, MPI_INT, sizes.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
    std::vector<int> offsets(static_cast<std::size_t>(size_), 0);
    long long total = 0;
    for (int r = 0; r < size_; ++r) {
      offsets[static_cast<std::size_t>(r)] = static_cast<int>(total);
      total += sizes[static_cast<std::size_t>(r)];
    }
    std::vector<char> all(root() ? static_cast<std::size_t>(total) : 0);
    MPI_Gatherv(bytes.data(), n, MPI_CHAR, all.data(), sizes.data(), offsets.data(), MPI_CHAR, 0, MPI_COMM_WORLD);
    if (root()) {
      for (int r = 0; r < size_; ++r) {
        const auto* begin = all.data() + offsets[static_cast<std::size_t>(r)];
        out.emplace_back(begin, begin + sizes[static_cast<std::size_t>(r)]);
      }
    }
    return out;
  }
#endif
  out.push_back(bytes);
  return out;
}

int Distributed::max(int value) const {
#ifdef CCPNET_HAVE_MPI
  if (initialised_ && size_ > 1) {
    int out = value;
    MPI_Allreduce(&value, &out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return out;
  }
#endif
  return value;
}

}  // namespace ccpnet
