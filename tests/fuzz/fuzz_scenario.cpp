// Fuzz target: the scenario loader and the model builder fed arbitrary bytes.
//
// An input is the text of a scenario file, optionally followed by a line
// "#csv" and the bytes of a data file, which the scenario may name as
// `data.csv` (trades_file: data.csv, or market.history: {file: data.csv}).
// Bad input must end in a ScenarioError (or the model builder's located
// InputError); any other exception, a crash, a leak or a sanitizer report is a
// bug. Built with libFuzzer by the fuzz preset (clang); built without it, a
// main() runs the files given on the command line (the regression corpus).
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "sim/config/load.hpp"
#include "sim/errors.hpp"
#include "sim/model.hpp"

namespace {

namespace fs = std::filesystem;

// A directory of this process for the data file.
const fs::path& work_dir() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("ccpnet-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

// Scenarios the builder handles in well under a second: larger ones are valid
// but only slow the search down.
bool small(const ccpnet::config::Scenario& s) {
  std::size_t positions = 0;
  for (const auto& m : s.members)
    for (const auto& [ccp, book] : m.positions) positions += book.size();
  return s.market.assets.size() <= 64 && s.ccps.size() <= 16 && s.members.size() <= 2000 && positions <= 20000 &&
         (!s.generator || s.generator->members <= 500);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  constexpr std::string_view kSplit = "\n#csv\n";
  const std::size_t split = input.find(kSplit);
  const fs::path csv = work_dir() / "data.csv";
  std::error_code ec;
  if (split == std::string_view::npos) {
    fs::remove(csv, ec);
  } else {
    std::ofstream out(csv, std::ios::binary | std::ios::trunc);
    const std::string_view bytes = input.substr(split + kSplit.size());
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  try {
    const auto loaded = ccpnet::config::load_scenario_text(input.substr(0, split), (work_dir() / "fuzz.yaml").string());
    if (small(loaded.scenario)) (void)ccpnet::build_model(loaded);
  } catch (const ccpnet::config::ScenarioError&) {
  } catch (const ccpnet::InputError&) {
  }
  return 0;
}

#ifndef CCPNET_LIBFUZZER
#include <iostream>
#include <sstream>
#include <vector>

// Runs every file given, or every file of every directory given.
int main(int argc, char** argv) {
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    const fs::path p(argv[i]);
    if (fs::is_directory(p)) {
      for (const auto& e : fs::recursive_directory_iterator(p))
        if (e.is_regular_file()) files.push_back(e.path());
    } else {
      files.push_back(p);
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string bytes = ss.str();
    std::cout << f.string() << std::endl;
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  }
  std::cout << files.size() << " inputs ran\n";
  fs::remove_all(work_dir());
  return files.empty() ? 1 : 0;
}
#endif
