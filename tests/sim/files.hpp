// Files the sim tests read back: the outputs a run wrote, the library's data.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace ccpnet::test_files {

// The bytes of the file at `path` (empty when it cannot be read).
inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace ccpnet::test_files
