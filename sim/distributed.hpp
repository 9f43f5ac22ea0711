// Several processes (MPI): `mpirun -np N ccpnet run ...` splits the scenario
// range on aggregation-chunk boundaries, each rank runs its part, and rank 0
// merges the parts in rank order, so the output is byte-identical to a single
// process's. Without MPI, or when not launched by mpirun, this is a single rank.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ccpnet {

class Distributed {
 public:
  // Initialises MPI only when the process was started by an MPI launcher.
  Distributed(int* argc, char*** argv);
  ~Distributed();
  Distributed(const Distributed&) = delete;
  Distributed& operator=(const Distributed&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool root() const { return rank_ == 0; }

  // This rank's [first, first + count) of `total` scenarios, split on multiples of `chunk`.
  std::pair<std::int64_t, std::int64_t> range(std::int64_t total, std::int64_t chunk) const;
  // The root's string, on every rank.
  std::string broadcast(const std::string& value) const;
  // Every rank's bytes, on the root, in rank order (empty elsewhere).
  std::vector<std::vector<char>> gather(const std::vector<char>& bytes) const;
  // The largest of every rank's value, on every rank.
  int max(int value) const;

 private:
  int rank_ = 0;
  int size_ = 1;
  bool initialised_ = false;
};

}  // namespace ccpnet
