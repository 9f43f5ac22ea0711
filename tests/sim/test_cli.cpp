// The `ccpnet` executable on bad input: exit code 2 with every error located,
// never a crash (exit 1 or a signal), never a hang, nothing written. And on
// good input and arguments: the scenario library validates, --version works.
//
// The executable is $CCPNET_EXE (set by ctest); a hung child is killed after a
// timeout, so a hang fails the test instead of blocking the suite.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sim/output.hpp"
#include "tests/sim/files.hpp"

extern char** environ;

namespace test_cli {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const fs::path& source_dir() {
  static const fs::path dir(CCPNET_SOURCE_DIR);
  return dir;
}

fs::path executable() {
  if (const char* exe = std::getenv("CCPNET_EXE"); exe && *exe) return exe;
  return fs::path(CCPNET_BINARY_DIR) / "bin" / "ccpnet";
}

using ccpnet::test_files::read_text;

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// A fresh directory for one test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() / ("ccpnet-cli-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) +
                                         "-" + (info ? std::string(info->name()) : std::string("test")));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

struct Outcome {
  int exit_code = -1;  // when the process exited
  int signal = 0;      // when a signal ended it (a crash, or our kill after the timeout)
  bool timed_out = false;
  std::chrono::duration<double> elapsed{};
  std::string out, err;
};

// Runs ccpnet with `args`, stdin from /dev/null, stdout and stderr to files.
Outcome run_ccpnet(const std::vector<std::string>& args, std::chrono::milliseconds timeout = 30s) {
  TempDir io;
  const std::string out_path = (io.path() / "stdout").string();
  const std::string err_path = (io.path() / "stderr").string();
  const std::string exe = executable().string();

  std::vector<std::string> storage{exe};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  Outcome o;
  const auto start = std::chrono::steady_clock::now();
  const int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    ADD_FAILURE() << "cannot start " << exe << ": " << std::strerror(rc);
    return o;
  }
  int status = 0;
  while (true) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) {
      ADD_FAILURE() << "waitpid: " << std::strerror(errno);
      return o;
    }
    if (std::chrono::steady_clock::now() - start > timeout) {
      o.timed_out = true;
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(2ms);
  }
  o.elapsed = std::chrono::steady_clock::now() - start;
  if (WIFEXITED(status)) o.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) o.signal = WTERMSIG(status);
  o.out = read_text(out_path);
  o.err = read_text(err_path);
  return o;
}

std::string describe(const std::vector<std::string>& args, const Outcome& o) {
  std::string cmd = "ccpnet";
  for (const auto& a : args) cmd += " " + (a.size() > 100 ? a.substr(0, 100) + "..." : a);
  return cmd + "\n  exit " + std::to_string(o.exit_code) + ", signal " + std::to_string(o.signal) +
         (o.timed_out ? ", timed out" : "") + "\n  stderr: " + o.err.substr(0, 2000) +
         "\n  stdout: " + o.out.substr(0, 500);
}

// "FILE:LINE:COL: ..." with LINE and COL numbers.
bool located(const std::string& line, const std::string& file) {
  if (line.rfind(file + ":", 0) != 0) return false;
  std::size_t i = file.size() + 1;
  for (int field = 0; field < 2; ++field) {
    const std::size_t digits = i;
    while (i < line.size() && line[i] >= '0' && line[i] <= '9') ++i;
    if (i == digits || i >= line.size() || line[i] != ':') return false;
    ++i;
  }
  return i < line.size() && line[i] == ' ';
}

// Exit 2, nothing on stdout, and every line of stderr located in `file` (or in
// its data file: the same name ending in .csv).
void expect_located_rejection(const std::vector<std::string>& args, const Outcome& o, const std::string& file) {
  SCOPED_TRACE(describe(args, o));
  EXPECT_FALSE(o.timed_out);
  EXPECT_EQ(o.signal, 0);
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(o.out, "");
  ASSERT_FALSE(o.err.empty());
  std::istringstream lines(o.err);
  const std::string data = fs::path(file).replace_extension(".csv").string();
  for (std::string line; std::getline(lines, line);) EXPECT_TRUE(located(line, file) || located(line, data)) << line;
}

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".yaml") out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<fs::path> bad_files() { return files_in(source_dir() / "tests" / "data" / "bad"); }

std::string repeated(std::string_view piece, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += piece;
  return out;
}

TEST(Cli, TheExecutableIsThere) { ASSERT_TRUE(fs::exists(executable())) << executable(); }

// ---- bad scenario files -------------------------------------------------------------

TEST(CliBadFiles, ValidateExitsTwoWithEveryErrorLocated) {
  const auto files = bad_files();
  ASSERT_GE(files.size(), 20u);
  for (const auto& f : files) {
    const std::vector<std::string> args{"validate", f.string()};
    expect_located_rejection(args, run_ccpnet(args), f.string());
  }
}

TEST(CliBadFiles, EveryCommandRejectsThemTheSameWay) {
  for (const auto& f : bad_files()) {
    for (const char* command : {"graph", "stress"}) {
      const std::vector<std::string> args{command, f.string()};
      expect_located_rejection(args, run_ccpnet(args), f.string());
    }
  }
}

TEST(CliDataFiles, OutsideTheScenarioDirectoryOnlyWithTheFlag) {
  const std::string file = (source_dir() / "tests" / "data" / "bad" / "data_file_escape.yaml").string();
  const Outcome refused = run_ccpnet({"validate", file});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr("which leads out of it"));
  EXPECT_THAT(refused.err, HasSubstr("--allow-outside-data"));
  // With the flag the file is read: its trades name the CCPs of another scenario.
  const Outcome allowed = run_ccpnet({"validate", file, "--allow-outside-data"});
  EXPECT_EQ(allowed.exit_code, 2);
  EXPECT_THAT(allowed.err, HasSubstr("data/trades/trades.csv:2:14: trades_file: unknown CCP 'A'"));
}

TEST(CliBadFiles, RunWritesNothing) {
  TempDir tmp;
  for (const auto& f : bad_files()) {
    const fs::path out = tmp.path() / f.stem();
    // No -n: it would replace simulation.scenarios, the error of one of the files.
    const std::vector<std::string> args{"run", f.string(), "--out", out.string(), "--quiet"};
    const Outcome o = run_ccpnet(args);
    expect_located_rejection(args, o, f.string());
    EXPECT_FALSE(fs::exists(out)) << describe(args, o);
  }
  // An existing, empty output directory stays empty.
  const fs::path out = tmp.path() / "existing";
  fs::create_directories(out);
  const std::string bad = (source_dir() / "tests" / "data" / "bad" / "many_errors.yaml").string();
  const std::vector<std::string> args{"run", bad, "--out", out.string(), "--quiet"};
  expect_located_rejection(args, run_ccpnet(args), bad);
  EXPECT_TRUE(fs::is_empty(out));
}

TEST(CliBadFiles, ManyErrorsAreAllReported) {
  const std::string bad = (source_dir() / "tests" / "data" / "bad" / "many_errors.yaml").string();
  const Outcome o = run_ccpnet({"validate", bad});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 9) << o.err;
}

// ---- hostile files, generated ----------------------------------------------------------

TEST(CliHostile, CleanErrorsWithoutCrashOrHang) {
  TempDir tmp;
  const std::string base = [] {
    const std::string text = read_text(source_dir() / "scenarios" / "two_ccp_peer.yaml");
    return text.substr(text.find("name:"));
  }();
  std::vector<std::pair<std::string, std::string>> inputs;
  {
    std::string laughs = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
    for (int i = 1; i < 10; ++i) {
      laughs += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
      for (int k = 0; k < 10; ++k) laughs += (k ? ", *a" : "*a") + std::to_string(i - 1);
      laughs += "]\n";
    }
    inputs.emplace_back("billion_laughs.yaml", laughs + base);
  }
  inputs.emplace_back("deep_flow.yaml", "name: x\nmarket: " + repeated("[", 20000) + repeated("]", 20000) + "\n");
  inputs.emplace_back("deep_flow_unclosed.yaml", "name: x\nmarket: " + repeated("{a: ", 20000) + "\n");
  inputs.emplace_back("deep_block.yaml", "name: x\nmarket:\n" + repeated("- ", 20000) + "1\n");
  {
    std::string maps = "name: x\nmarket:\n";
    for (int i = 1; i <= 2000; ++i) maps += std::string(static_cast<std::size_t>(i), ' ') + "a:\n";
    inputs.emplace_back("deep_block_maps.yaml", maps);
  }
  {
    std::mt19937 rng(11);
    std::string garbage(1 << 16, '\0');
    for (char& c : garbage) c = static_cast<char>(rng() & 0xFF);
    inputs.emplace_back("garbage.bin", garbage);
  }
  inputs.emplace_back("nul.yaml", base + std::string(100, '\0'));
  inputs.emplace_back("utf16.yaml", std::string("\xFF\xFEn\0a\0m\0e\0", 10));
  inputs.emplace_back("zero_bytes.yaml", "");
  inputs.emplace_back("huge.yaml", "name: x\n# " + std::string(5u << 20, 'x') + "\n");
  inputs.emplace_back("many_nodes.yaml", "name: x\nmarket: [" + repeated("1,", 600'000) + "1]\n");
  for (const auto& [name, text] : inputs) {
    const fs::path file = tmp.path() / name;
    write_text(file, text);
    const std::vector<std::string> args{"validate", file.string()};
    const Outcome o = run_ccpnet(args, 20s);
    expect_located_rejection(args, o, file.string());
    EXPECT_LT(o.elapsed, 5s) << name;  // a process start included: generous
  }
}

TEST(CliHostile, NotARegularFile) {
  const std::string dir = (source_dir() / "tests").string();
  const std::vector<std::string> args{"validate", dir};
  const Outcome o = run_ccpnet(args);
  expect_located_rejection(args, o, dir);
  EXPECT_THAT(o.err, HasSubstr("it is a directory"));
  const std::string missing = (source_dir() / "no_such_file.yaml").string();
  const Outcome m = run_ccpnet({"validate", missing});
  expect_located_rejection({"validate", missing}, m, missing);
  EXPECT_EQ(m.err, missing + ":0:0: cannot open the file: no such file\n");
}

// ---- the scenario library ----------------------------------------------------------------

TEST(CliScenarios, EveryScenarioValidates) {
  const auto files = files_in(source_dir() / "scenarios");
  ASSERT_FALSE(files.empty());
  for (const auto& f : files) {
    const std::vector<std::string> args{"validate", f.string()};
    const Outcome o = run_ccpnet(args);
    SCOPED_TRACE(describe(args, o));
    EXPECT_EQ(o.exit_code, 0);
    EXPECT_THAT(o.out, StartsWith(f.string() + ": ok: "));
  }
}

// ---- arguments ------------------------------------------------------------------------

std::string good_file() { return (source_dir() / "scenarios" / "two_ccp_peer.yaml").string(); }

// The hand cases of tests/data/hand through the executable, as a user runs
// them: `ccpnet stress FILE --set ... --out DIR` writes stress.json with the
// numbers worked out in the file's comments.
nlohmann::json stress_of(const std::string& file, const std::vector<std::string>& sets) {
  TempDir tmp;
  const fs::path out = tmp.path() / "out";
  std::vector<std::string> args{"stress", (source_dir() / "tests" / "data" / "hand" / file).string()};
  for (const auto& s : sets) args.insert(args.end(), {"--set", s});
  args.insert(args.end(), {"--out", out.string()});
  const Outcome o = run_ccpnet(args);
  EXPECT_EQ(o.exit_code, 0) << describe(args, o);
  return nlohmann::json::parse(read_text(out / "stress.json"));
}

TEST(CliStress, AaveCloseFactorAndStaleOracleHandCase) {
  const auto json = stress_of("aave_close_factor.yaml", {"ccps.AAVE.lending.oracle_delay_hours=12"});
  const auto& crash = json.at("stress_scenarios").at(1);
  EXPECT_EQ(crash.at("name"), "crash");
  EXPECT_NEAR(crash.at("closeout_loss").get<double>(), 1745.777728733653, 1e-6);
  const auto& layers = crash.at("ccps").at("AAVE").at("layer_losses");
  EXPECT_NEAR(layers.at("insurance_fund").get<double>(), 1000, 1e-9);
  EXPECT_NEAR(layers.at("lender_haircut").get<double>(), 745.777728733653, 1e-6);
  const auto& b = crash.at("lending").at(0);
  EXPECT_EQ(b.at("account"), "B");
  EXPECT_NEAR(b.at("bad_debt").get<double>(), 1587.070662485139, 1e-6);
  EXPECT_NEAR(b.at("debt_repaid").get<double>(), 13412.92933751486, 1e-6);
}

TEST(CliStress, VenueLiquidationEngineHandCase) {
  const auto json = stress_of("venue_liquidations.yaml", {});
  const auto& crash = json.at("stress_scenarios").at(0);
  const auto& layers = crash.at("ccps").at("V").at("layer_losses");
  EXPECT_NEAR(layers.at("defaulter_im").get<double>(), 509, 1e-9);
  EXPECT_NEAR(layers.at("insurance_fund").get<double>(), 111, 1e-9);
  // ADL closes 50 x 70 / 181 contracts at 2 a contract against the mark;
  // their impact cost, 81 x 70 / 181, is not incurred (the yaml works it out).
  EXPECT_NEAR(layers.at("adl").get<double>(), 100 * 70.0 / 181.0, 1e-9);
  EXPECT_EQ(crash.at("venue_liquidations").size(), 3u);
  EXPECT_TRUE(crash.at("member_defaults").empty());
  const auto& waterfall = crash.at("waterfalls").at(0);
  EXPECT_NEAR(waterfall.at("adl_cost_avoided").get<double>(), 81 * 70.0 / 181.0, 1e-9);
  const auto& adl = waterfall.at("adl");
  ASSERT_EQ(adl.size(), 1u);
  EXPECT_EQ(adl.at(0).at("account"), "S1");
  EXPECT_NEAR(adl.at(0).at("contracts").get<double>(), 50 * 70.0 / 181.0, 1e-9);
}

TEST(CliArguments, VersionAndHelpExitZero) {
  const Outcome v = run_ccpnet({"--version"});
  EXPECT_EQ(v.exit_code, 0) << describe({"--version"}, v);
  EXPECT_THAT(v.out, StartsWith("ccpnet "));
  const Outcome h = run_ccpnet({"--help"});
  EXPECT_EQ(h.exit_code, 0) << describe({"--help"}, h);
  EXPECT_THAT(h.out, HasSubstr("validate"));
}

TEST(CliArguments, UnknownSubcommandsAndFlagsExitTwo) {
  const std::vector<std::vector<std::string>> cases{
      {},
      {"frobnicate"},
      {"frobnicate", good_file()},
      {"--frobnicate"},
      {"validate"},
      {"validate", good_file(), "--frobnicate"},
      {"validate", good_file(), "extra.yaml"},
      {"run", good_file(), "-n", "0"},
      {"run", good_file(), "-n", "many"},
      {"run", good_file(), "--threads", "-5"},
  };
  TempDir tmp;
  for (auto args : cases) {
    // Should a run start by mistake, it writes into the temporary directory.
    if (!args.empty() && args[0] == "run") args.insert(args.end(), {"--quiet", "--out", (tmp.path() / "out").string()});
    const Outcome o = run_ccpnet(args);
    SCOPED_TRACE(describe(args, o));
    EXPECT_EQ(o.exit_code, 2);
    EXPECT_EQ(o.signal, 0);
    EXPECT_FALSE(o.err.empty());
  }
}

TEST(CliArguments, OverridesAreCheckedLikeTheFile) {
  const Outcome ok =
      run_ccpnet({"validate", good_file(), "--set", "ccps.CCP_A.capital=3e8", "--set", "simulation.scenarios=5000"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  const std::vector<std::string> args{
      "validate", good_file(), "--set", "ccps.CCP_A.capital=-1", "--set", "ccps[1].kind=exchange"};
  const Outcome bad = run_ccpnet(args);
  SCOPED_TRACE(describe(args, bad));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err,
            "--set ccps.CCP_A.capital=-1:0:0: ccps[0].capital: expected a value >= 0 (USD), found -1\n"
            "--set ccps[1].kind=exchange:0:0: ccps[1].kind: expected one of traditional, crypto_venue, "
            "lending_protocol, found 'exchange'\n");
  const Outcome malformed = run_ccpnet({"validate", good_file(), "--set", "noequals"});
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_EQ(malformed.err, "--set noequals:0:0: expected KEY.PATH=VALUE, e.g. simulation.scenarios=5000\n");
  // The file's errors and the overrides' together.
  const std::string bad_file = (source_dir() / "tests" / "data" / "bad" / "negative_capital.yaml").string();
  const Outcome both = run_ccpnet({"validate", bad_file, "--set", "seed=x"});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_EQ(both.err, bad_file +
                          ":38:14: members[2].capital: expected a value >= 0 (USD), found -2.0e8\n"
                          "--set seed=x:0:0: seed: expected an integer, found 'x'\n");
}

// ---- data files named by a scenario ---------------------------------------------

// A scenario replaying tests/data/history/prices.csv, copied with it into `dir`.
fs::path history_scenario(const fs::path& dir, const std::string& csv_name) {
  fs::copy_file(source_dir() / "tests" / "data" / "history" / "prices.csv", dir / "prices.csv");
  write_text(dir / "s.yaml",
             "name: history\n"
             "market:\n"
             "  assets: [{id: BTC, price: 100, volatility: 0.6}, {id: ETH, price: 50, volatility: 0.8}]\n"
             "  history: {file: " +
                 csv_name +
                 ", mode: replay}\n"
                 "ccps: [{id: A, capital: 1e8, margin: {model: parametric, mpor_days: 2}}]\n"
                 "members:\n"
                 "  - {id: M1, capital: 1e8, positions: {A: {BTC: 10}}}\n"
                 "  - {id: M2, capital: 1e8, positions: {A: {BTC: -10}}}\n"
                 "defaults: {exogenous: [M1]}\n");
  return dir / "s.yaml";
}

TEST(CliDataFiles, TheManifestHashesEveryFileARunRead) {
  TempDir tmp;
  const fs::path scenario = history_scenario(tmp.path(), "prices.csv");
  const fs::path out = tmp.path() / "out";
  const std::vector<std::string> args{"run", scenario.string(), "-n", "20", "--out", out.string(), "--quiet"};
  const Outcome o = run_ccpnet(args);
  ASSERT_EQ(o.exit_code, 0) << describe(args, o);
  const auto manifest = nlohmann::json::parse(read_text(out / "manifest.json"));
  const auto& inputs = manifest.at("inputs");
  ASSERT_EQ(inputs.size(), 2u) << inputs.dump();
  EXPECT_EQ(inputs[0].at("path"), scenario.string());
  EXPECT_EQ(inputs[1].at("path"), (tmp.path() / "prices.csv").string());
  EXPECT_EQ(inputs[1].at("sha256"), ccpnet::sha256_hex(read_text(tmp.path() / "prices.csv")));
}

TEST(CliDataFiles, ABadDataFileExitsTwoAndWritesNothing) {
  TempDir tmp;
  const fs::path scenario = history_scenario(tmp.path(), "bad.csv");
  write_text(tmp.path() / "bad.csv", "date,BTC,ETH\n2024-01-01,100,50\n2024-01-02,-1,40\n2024-01-03,99,60\n");
  const fs::path out = tmp.path() / "out";
  const std::vector<std::string> args{"run", scenario.string(), "--out", out.string(), "--quiet"};
  const Outcome o = run_ccpnet(args);
  SCOPED_TRACE(describe(args, o));
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(o.err, (tmp.path() / "bad.csv").string() +
                       ":3:12: market.history.file: expected a price > 0 (USD) for BTC, found -1\n");
  EXPECT_FALSE(fs::exists(out));
}

// ---- contributions -------------------------------------------------------------------

TEST(CliContributions, WritesItsTableAndReportAndRefusesAMissingLink) {
  TempDir dir;
  const std::string file = (source_dir() / "scenarios" / "two_ccp_peer.yaml").string();
  const std::string out = (dir.path() / "loo").string();
  const std::vector<std::string> args{"contributions", file, "-n", "200", "--quiet", "--report", "--out", out};
  const Outcome o = run_ccpnet(args, 120s);
  ASSERT_EQ(o.exit_code, 0) << describe(args, o);
  EXPECT_NE(o.out.find("contributions to total_loss"), std::string::npos) << o.out;
  for (const char* name : {"contributions.csv", "contributions.json", "report.html", "manifest.json"})
    EXPECT_TRUE(fs::exists(fs::path(out) / name)) << name;
  std::ifstream csv(fs::path(out) / "contributions.csv");
  std::string header, row;
  std::getline(csv, header);
  std::getline(csv, row);
  EXPECT_EQ(header, "node,kind,metric,with_node,without_node,contribution,lower,upper,share");
  EXPECT_EQ(row.rfind("CCP_A-CCP_B,link,total_loss,", 0), 0u) << row;
  const std::vector<std::string> missing{"contributions", file, "-n", "10", "--link", "7"};
  const Outcome m = run_ccpnet(missing);
  EXPECT_EQ(m.exit_code, 2) << describe(missing, m);
  EXPECT_NE(m.err.find("link 7 does not exist: the model has 1 links"), std::string::npos) << m.err;
}

}  // namespace test_cli
