// The `ccpnet` command line (SPEC 5.1). Exit codes: 0 success, 2 invalid
// input, 1 internal error.
#pragma once

namespace ccpnet::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInternal = 1;
inline constexpr int kExitInvalidInput = 2;
inline constexpr int kExitInterrupted = 130;  // 128 + SIGINT, after writing a partial result

int main(int argc, char** argv);

}  // namespace ccpnet::cli
