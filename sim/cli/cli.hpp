// The `ccpnet` command line (SPEC 5.1). Exit codes: 0 success, 2 invalid
// input (and an output directory that may not be replaced, or an I/O error),
// 1 internal error, 128 + N after signal N (SIGINT, SIGTERM, SIGHUP).
#pragma once

namespace ccpnet::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInternal = 1;
inline constexpr int kExitInvalidInput = 2;
inline constexpr int kExitInterrupted = 130;  // 128 + SIGINT, after writing a partial result (SIGTERM: 143)

int main(int argc, char** argv);

}  // namespace ccpnet::cli
