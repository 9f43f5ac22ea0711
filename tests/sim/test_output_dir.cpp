// The output directory never costs the user a file: what `--out` may replace
// (nothing but an earlier ccpnet output), trailing slashes, the working
// directory and its parents, one default directory per command, signals
// during a run, staging directories of dead runs, I/O errors. Each test drives
// the executable ($CCPNET_EXE) and checks that the user's files are still
// there, byte for byte. Also the command-line values that ended in an internal
// error or were silently accepted (--seed, --set key paths, --max-multiple,
// schema --update) and the quoting of ids in the CSV outputs.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sim/output.hpp"
#include "tests/sim/files.hpp"

namespace test_output_dir {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

const fs::path& source_dir() {
  static const fs::path dir(CCPNET_SOURCE_DIR);
  return dir;
}

fs::path executable() {
  // Absolute: some tests run it in another working directory.
  if (const char* exe = std::getenv("CCPNET_EXE"); exe && *exe) return fs::absolute(exe);
  return fs::path(CCPNET_BINARY_DIR) / "bin" / "ccpnet";
}

std::string scenario() { return (source_dir() / "scenarios" / "two_ccp_peer.yaml").string(); }
std::string long_scenario() { return (source_dir() / "scenarios" / "reference_network.yaml").string(); }

using ccpnet::test_files::read_text;

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// A fresh directory for one test, removed afterwards (permissions restored first).
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() / ("ccpnet-outdir-" + std::to_string(::getpid()) + "-" +
                                         std::to_string(counter++) + "-" + (info ? info->name() : "test"));
    fs::remove_all(path_);
    fs::create_directories(path_);
    fs::permissions(path_, fs::perms::all & ~fs::perms::others_write & ~fs::perms::group_write);
  }
  ~TempDir() {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(path_, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
      if (it->is_directory(ec) && !it->is_symlink(ec))
        fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Every file and directory under `dir`, with the bytes of each file (the
// targets of symbolic links), for "still there, byte for byte".
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
    const std::string rel = fs::relative(it->path(), dir).string();
    if (it->is_symlink()) {
      out[rel] = "symlink to " + fs::read_symlink(it->path()).string();
      it.disable_recursion_pending();
    } else if (it->is_directory()) {
      out[rel] = "<directory>";
    } else {
      out[rel] = read_text(it->path());
    }
  }
  return out;
}

// Entries of `dir` that look like ccpnet's staging or set-aside directories.
std::vector<std::string> leftovers(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.find(".ccpnet-") != std::string::npos || name.find(".partial-") != std::string::npos) out.push_back(name);
  }
  return out;
}

// This host's name as ccpnet writes it into staging directory names.
std::string host_tag() {
  std::array<char, 256> buffer{};
  gethostname(buffer.data(), buffer.size() - 1);
  std::string out;
  for (const char* c = buffer.data(); *c; ++c)
    out += std::isalnum(static_cast<unsigned char>(*c)) || *c == '-' ? *c : '_';
  return out.empty() ? "localhost" : out;
}

// A process id that is not running: a child that has exited and been reaped.
pid_t dead_pid() {
  const pid_t pid = fork();
  if (pid == 0) _exit(0);
  waitpid(pid, nullptr, 0);
  return pid;
}

// ---- running ccpnet ----------------------------------------------------------------------

struct Launch {
  Launch(std::vector<std::string> a, fs::path c = {}) : args(std::move(a)), cwd(std::move(c)) {}
  std::vector<std::string> args;
  fs::path cwd;                // empty: this process's
  bool as_nobody = false;      // run as user and group 65534 (when we are root)
  rlim_t file_size_limit = 0;  // RLIMIT_FSIZE in bytes (0: none), SIGXFSZ ignored: writes fail with EFBIG
};

struct Outcome {
  int exit_code = -1;
  int signal = 0;
  bool timed_out = false;
  std::string out, err;
};

class Process {
 public:
  explicit Process(const Launch& launch) : io_(std::make_unique<TempDir>()) {
    const std::string exe = executable().string();
    std::vector<std::string> storage{exe};
    storage.insert(storage.end(), launch.args.begin(), launch.args.end());
    std::vector<char*> argv;
    for (auto& a : storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string out = (io_->path() / "stdout").string(), err = (io_->path() / "stderr").string();
    const std::string cwd = launch.cwd.string();
    pid_ = fork();
    if (pid_ == 0) {
      // The child: async-signal-safe calls only.
      const int in_fd = open("/dev/null", O_RDONLY);
      const int out_fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
      const int err_fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
      if (in_fd < 0 || out_fd < 0 || err_fd < 0) _exit(120);
      dup2(in_fd, 0);
      dup2(out_fd, 1);
      dup2(err_fd, 2);
      if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(121);
      if (launch.file_size_limit) {
        struct sigaction ignore {};
        ignore.sa_handler = SIG_IGN;
        sigaction(SIGXFSZ, &ignore, nullptr);
        const rlimit limit{launch.file_size_limit, launch.file_size_limit};
        if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(122);
      }
      if (launch.as_nobody && (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0)) _exit(123);
      execv(exe.c_str(), argv.data());
      _exit(124);
    }
  }
  ~Process() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int s) const { kill(pid_, s); }

  Outcome wait(std::chrono::milliseconds timeout = 120s) {
    Outcome o;
    int status = 0;
    const auto start = std::chrono::steady_clock::now();
    while (true) {
      const pid_t done = waitpid(pid_, &status, WNOHANG);
      if (done == pid_) break;
      if (std::chrono::steady_clock::now() - start > timeout) {
        o.timed_out = true;
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(5ms);
    }
    reaped_ = true;
    if (WIFEXITED(status)) o.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) o.signal = WTERMSIG(status);
    o.out = read_text(io_->path() / "stdout");
    o.err = read_text(io_->path() / "stderr");
    return o;
  }

 private:
  std::unique_ptr<TempDir> io_;
  pid_t pid_ = -1;
  bool reaped_ = false;
};

Outcome run(const Launch& launch, std::chrono::milliseconds timeout = 120s) { return Process(launch).wait(timeout); }
Outcome run(const std::vector<std::string>& args) { return run(Launch{args}); }

std::string describe(const std::vector<std::string>& args, const Outcome& o) {
  std::string cmd = "ccpnet";
  for (const auto& a : args) cmd += " " + a;
  return cmd + "\n  exit " + std::to_string(o.exit_code) + ", signal " + std::to_string(o.signal) +
         (o.timed_out ? ", timed out" : "") + "\n  stderr: " + o.err.substr(0, 2000) +
         "\n  stdout: " + o.out.substr(0, 300);
}

// `ccpnet run` of the small scenario into `out` (200 scenarios: well under a second).
std::vector<std::string> small_run(const std::string& out) {
  return {"run", scenario(), "-n", "200", "--threads", "1", "--quiet", "--out", out};
}

// A refusal: exit 2, one message naming `path` and containing `why`.
void expect_refused(const std::vector<std::string>& args, const Outcome& o, const std::string& path,
                    const std::string& why) {
  SCOPED_TRACE(describe(args, o));
  EXPECT_FALSE(o.timed_out);
  EXPECT_EQ(o.signal, 0);
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_THAT(o.err, HasSubstr(path));
  EXPECT_THAT(o.err, HasSubstr(why));
  EXPECT_THAT(o.err, ::testing::Not(HasSubstr("internal error")));
}

// The output directory `dir` is a complete ccpnet output: its manifest lists
// every file, with the right hashes.
void expect_complete_output(const fs::path& dir) {
  SCOPED_TRACE(dir.string());
  ASSERT_TRUE(fs::is_directory(dir));
  const auto manifest = nlohmann::json::parse(read_text(dir / "manifest.json"));
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    ++files;
    const std::string name = e.path().filename().string();
    if (name == "manifest.json" || name == "run.json") continue;
    ASSERT_TRUE(manifest.at("outputs").contains(name)) << name;
    EXPECT_EQ(manifest["outputs"][name], ccpnet::sha256_hex(read_text(e.path()))) << name;
  }
  EXPECT_EQ(files, manifest.at("outputs").size() + 1 + (fs::exists(dir / "run.json") ? 1 : 0));
}

// ---- what --out may replace ---------------------------------------------------------------

TEST(OutputDir, TrailingSlashTwice) {
  TempDir tmp;
  write_text(tmp.path() / "keep.txt", "a file of the user\n");
  const auto before = snapshot(tmp.path());
  const std::string out = (tmp.path() / "o").string() + "/";
  for (int i = 0; i < 2; ++i) {
    const auto args = small_run(out);
    const Outcome o = run(args);
    ASSERT_EQ(o.exit_code, 0) << describe(args, o);
    expect_complete_output(tmp.path() / "o");
  }
  // Also with a second separator and a '.' at the end.
  const auto args = small_run((tmp.path() / "o").string() + "//.");
  const Outcome o = run(args);
  ASSERT_EQ(o.exit_code, 0) << describe(args, o);
  expect_complete_output(tmp.path() / "o");
  EXPECT_EQ(read_text(tmp.path() / "keep.txt"), before.at("keep.txt"));
  EXPECT_THAT(leftovers(tmp.path()), ::testing::IsEmpty());
}

TEST(OutputDir, AUsersManifestAndFilesAreRefused) {
  TempDir tmp;
  const fs::path d = tmp.path() / "d";
  fs::create_directories(d / "sub");
  write_text(d / "manifest.json", "{\"project\": \"mine\", \"files\": [\"data.txt\"]}\n");
  write_text(d / "data.txt", "years of work\n");
  write_text(d / "sub" / "more.txt", "more\n");
  const auto before = snapshot(tmp.path());
  const auto args = small_run(d.string());
  expect_refused(args, run(args), d.string(), "manifest.json was not written by ccpnet");
  // A manifest that looks like ccpnet's but does not list the user's files.
  write_text(d / "manifest.json", "{\"ccpnet_version\": \"0.1.0\", \"outputs\": {\"summary.json\": \"00\"}}\n");
  const auto with_ccpnet_manifest = snapshot(tmp.path());
  for (const auto& command :
       {small_run(d.string()), std::vector<std::string>{"stress", scenario(), "--out", d.string()},
        std::vector<std::string>{"stress", scenario(), "--out", d.string() + "/"}}) {
    expect_refused(command, run(command), d.string(), "which is not one of the files of the ccpnet output");
  }
  EXPECT_EQ(snapshot(tmp.path()), with_ccpnet_manifest);
  // No manifest at all.
  fs::remove(d / "manifest.json");
  const auto without = snapshot(tmp.path());
  expect_refused(args, run(args), d.string(), "is not an output of ccpnet");
  EXPECT_EQ(snapshot(tmp.path()), without);
  EXPECT_THAT(leftovers(tmp.path()), ::testing::IsEmpty());
  fs::remove_all(d / "sub");
  write_text(d / "manifest.json", "{\"project\": \"mine\"}\n");
  EXPECT_EQ(snapshot(tmp.path()).at("d/data.txt"), before.at("d/data.txt"));
}

TEST(OutputDir, NotesAddedToAnEarlierOutputAreKept) {
  TempDir tmp;
  const fs::path o = tmp.path() / "o";
  const auto args = small_run(o.string());
  ASSERT_EQ(run(args).exit_code, 0);
  write_text(o / "notes.txt", "what I found in this run\n");
  const auto before = snapshot(tmp.path());
  expect_refused(args, run(args), o.string(), "'notes.txt'");
  EXPECT_EQ(snapshot(tmp.path()), before);
  // A directory added to it, likewise.
  fs::remove(o / "notes.txt");
  fs::create_directories(o / "plots");
  const auto with_dir = snapshot(tmp.path());
  expect_refused(args, run(args), o.string(), "'plots'");
  EXPECT_EQ(snapshot(tmp.path()), with_dir);
  // Without the additions, the earlier output is replaced.
  fs::remove(o / "plots");
  ASSERT_EQ(run(args).exit_code, 0);
  expect_complete_output(o);
}

TEST(OutputDir, TheWorkingDirectoryAndItsParentsAreRefused) {
  TempDir tmp;
  const fs::path parent = tmp.path() / "p";
  const fs::path cwd = parent / "d";
  fs::create_directories(cwd);
  write_text(cwd / "thesis.tex", "\\documentclass{article}\n");
  write_text(parent / "data.csv", "a,b\n1,2\n");
  fs::create_directory_symlink(cwd, tmp.path() / "link");
  const auto before = snapshot(tmp.path());
  for (const std::string& out :
       std::vector<std::string>{".", "./", "..", "../", "../d", "../d/", "./../d/.", (tmp.path() / "link").string(),
                                (tmp.path() / "link").string() + "/", cwd.string(), parent.string(), "/"}) {
    for (const std::string command : {"run", "stress"}) {
      std::vector<std::string> args{command, scenario(), "--out", out};
      if (command == "run") args = small_run(out);
      const Outcome o = run(Launch{args, cwd});
      expect_refused(args, o, "output directory " + out, out == "/" ? "root directory" : "working directory");
    }
  }
  EXPECT_EQ(snapshot(tmp.path()), before);
}

TEST(OutputDir, EachCommandHasItsOwnDefaultDirectory) {
  TempDir tmp;
  const std::string compare_file = (source_dir() / "scenarios" / "full_mesh.yaml").string();
  const Outcome r = run(Launch{{"run", scenario(), "-n", "200", "--quiet"}, tmp.path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_complete_output(tmp.path() / "ccpnet-run");
  const auto after_run = snapshot(tmp.path());
  const Outcome s = run(Launch{{"stress", scenario(), "--report"}, tmp.path()});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  expect_complete_output(tmp.path() / "ccpnet-stress");
  const Outcome c = run(Launch{{"compare", compare_file, "-n", "200", "--quiet", "--report"}, tmp.path()});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  expect_complete_output(tmp.path() / "ccpnet-compare");
  const auto after_all = snapshot(tmp.path());
  for (const auto& [path, bytes] : after_run) {
    ASSERT_TRUE(after_all.count(path)) << path;
    EXPECT_EQ(after_all.at(path), bytes) << path;
  }
  EXPECT_THAT(leftovers(tmp.path()), ::testing::IsEmpty());
}

// ---- signals ------------------------------------------------------------------------------

// Waits until a run into parent/name has written some rows into its staging directory.
bool wait_for_rows(const fs::path& parent, const std::string& name, std::chrono::seconds timeout = 30s) {
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < timeout) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(parent, ec)) {
      if (e.path().filename().string().rfind("." + name + ".ccpnet-staging.", 0) == 0 &&
          fs::file_size(e.path() / "scenarios.csv", ec) > 100'000 && !ec)
        return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

// SIGTERM and SIGHUP do what SIGINT does: a valid partial output, exit 128 + signal.
TEST(OutputDirSignals, TermAndHupWriteAValidPartialOutput) {
  for (const int s : {SIGTERM, SIGHUP, SIGINT}) {
    SCOPED_TRACE(strsignal(s));
    TempDir tmp;
    write_text(tmp.path() / "keep.txt", "mine\n");
    const fs::path out = tmp.path() / "out";
    Process p(Launch{{"run", long_scenario(), "-n", "100000000", "--quiet", "--out", out.string()}});
    ASSERT_TRUE(wait_for_rows(tmp.path(), "out"));
    p.signal(s);
    const Outcome o = p.wait();
    ASSERT_EQ(o.exit_code, 128 + s) << o.err;
    EXPECT_THAT(o.out, HasSubstr("INTERRUPTED"));
    expect_complete_output(out);
    const auto summary = nlohmann::json::parse(read_text(out / "summary.json"));
    EXPECT_EQ(summary.at("partial"), true);
    const std::string rows = read_text(out / "scenarios.csv");
    EXPECT_EQ(static_cast<std::int64_t>(std::count(rows.begin(), rows.end(), '\n')) - 1,
              summary.at("scenarios").get<std::int64_t>());
    EXPECT_EQ(read_text(tmp.path() / "keep.txt"), "mine\n");
    EXPECT_THAT(leftovers(tmp.path()), ::testing::IsEmpty());
  }
}

// A second signal abandons the new output: the previous one stays, or (when the
// signal came after the swap) the new one is complete; never half of either.
// The exit code is the first signal's, whichever the second is and whenever
// it comes (during the run, while the output is written, at exit).
TEST(OutputDirSignals, ASecondSignalLeavesNoHalfWrittenOutput) {
  for (const auto& [gap, second] :
       {std::pair{0ms, SIGTERM}, {1ms, SIGINT}, {20ms, SIGTERM}, {100ms, SIGINT}, {300ms, SIGHUP}}) {
    TempDir tmp;
    const fs::path out = tmp.path() / "out";
    ASSERT_EQ(run(small_run(out.string())).exit_code, 0);
    const auto previous = snapshot(out);
    Process p(Launch{{"run", long_scenario(), "-n", "100000000", "--quiet", "--out", out.string()}});
    ASSERT_TRUE(wait_for_rows(tmp.path(), "out"));
    p.signal(SIGTERM);
    std::this_thread::sleep_for(gap);
    p.signal(second);
    const Outcome o = p.wait();
    EXPECT_EQ(o.exit_code, 143) << "signal " << o.signal << ", then " << strsignal(second) << " after " << gap.count()
                                << " ms\n"
                                << o.err;
    if (snapshot(out) != previous) expect_complete_output(out);
    EXPECT_THAT(leftovers(tmp.path()), ::testing::IsEmpty());
  }
}

// A signal before the run has started, or during stress: nothing written, nothing left.
TEST(OutputDirSignals, ASignalOutsideARunEndsTheProcessCleanly) {
  TempDir tmp;
  const fs::path out = tmp.path() / "out";
  ASSERT_EQ(run(small_run(out.string())).exit_code, 0);
  const auto previous = snapshot(tmp.path());
  Process p(Launch{{"compare", (source_dir() / "scenarios" / "full_mesh.yaml").string(), "-n", "100000000", "--quiet",
                    "--out", out.string()}});
  std::this_thread::sleep_for(1500ms);
  p.signal(SIGHUP);
  const Outcome o = p.wait();
  EXPECT_EQ(o.exit_code, 129) << o.err;
  EXPECT_EQ(snapshot(tmp.path()), previous);
}

// ---- staging directories of dead runs ----------------------------------------------------------

TEST(OutputDir, StagingDirectoriesOfDeadRunsAreRemoved) {
  TempDir tmp;
  const fs::path out = tmp.path() / "out";
  const std::string host = host_tag();
  const pid_t dead = dead_pid();
  const auto make = [&](const std::string& name, const std::vector<std::string>& files) {
    fs::create_directories(tmp.path() / name);
    for (const auto& f : files) write_text(tmp.path() / name / f, "x\n");
    return tmp.path() / name;
  };
  const std::string d = std::to_string(dead);
  // Removed: recognisably ccpnet's, of a process that is gone.
  const fs::path stale = make(".out.ccpnet-staging." + host + "." + d, {".ccpnet-staging", "scenarios.csv"});
  const fs::path stale_unmarked = make(".out.ccpnet-staging." + host + "." + std::to_string(dead_pid()),
                                       {"scenarios.csv", "summary.json", "scenarios.part-1"});
  const fs::path legacy = make(".out.partial-" + d, {"scenarios.csv"});
  // Kept: a live process's, another host's, another target's, and anything not recognisably ccpnet's.
  const fs::path live = make(".out.ccpnet-staging." + host + "." + std::to_string(getpid()), {"scenarios.csv"});
  const fs::path other_host = make(".out.ccpnet-staging.elsewhere." + d, {"scenarios.csv"});
  const fs::path other_target = make(".other.ccpnet-staging." + host + "." + d, {"scenarios.csv"});
  const fs::path users = make(".out.ccpnet-staging." + host + "." + std::to_string(dead_pid()), {"thesis.tex"});
  const fs::path users_legacy = make(".out.partial-" + std::to_string(dead_pid()), {"thesis.tex"});
  const fs::path bad_pid = make(".out.ccpnet-staging." + host + ".12x", {"scenarios.csv"});
  write_text(tmp.path() / (".out.ccpnet-staging." + host + "." + std::to_string(dead_pid()) + "-file"), "a file\n");
  std::map<std::string, std::string> kept;
  for (const auto& dir : {live, other_host, other_target, users, users_legacy, bad_pid})
    for (const auto& [path, bytes] : snapshot(dir)) kept[(dir.filename() / path).string()] = bytes;

  const auto args = small_run(out.string());
  const Outcome o = run(args);
  ASSERT_EQ(o.exit_code, 0) << describe(args, o);
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_FALSE(fs::exists(stale_unmarked));
  EXPECT_FALSE(fs::exists(legacy));
  for (const auto& [path, bytes] : kept) {
    ASSERT_TRUE(fs::exists(tmp.path() / path)) << path;
    EXPECT_EQ(read_text(tmp.path() / path), bytes) << path;
  }
  EXPECT_EQ(leftovers(tmp.path()).size(), 7u);
}

// A run that died between moving the old output aside and moving the new one
// into place: the next run puts the old output back first.
TEST(OutputDir, AnOldOutputMovedAsideByADeadRunIsRestored) {
  TempDir tmp;
  const fs::path out = tmp.path() / "out";
  ASSERT_EQ(run(small_run(out.string())).exit_code, 0);
  const auto previous = snapshot(out);
  const fs::path aside = tmp.path() / (".out.ccpnet-old." + host_tag() + "." + std::to_string(dead_pid()));
  fs::rename(out, aside);
  // A refused run into a sibling does not touch it.
  write_text(tmp.path() / "file", "x");
  EXPECT_EQ(run(small_run((tmp.path() / "file").string())).exit_code, 2);
  EXPECT_TRUE(fs::exists(aside));
  const Outcome o = run(small_run(out.string()));
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_THAT(o.err, HasSubstr("restored " + out.string()));
  EXPECT_FALSE(fs::exists(aside));
  expect_complete_output(out);
  EXPECT_THAT(leftovers(tmp.path()), ::testing::IsEmpty());
  EXPECT_EQ(snapshot(out).at("summary.json"), previous.at("summary.json"));  // the same run again
}

// ---- I/O errors: exit 2 with the path and the OS's reason ---------------------------------

TEST(OutputDirErrors, TheTargetIsAFile) {
  TempDir tmp;
  const fs::path file = tmp.path() / "results";
  write_text(file, "not a directory\n");
  const auto before = snapshot(tmp.path());
  for (const std::string& out : {file.string(), file.string() + "/"}) {
    const auto args = small_run(out);
    expect_refused(args, run(args), out, "Not a directory");
  }
  const auto args = small_run((file / "sub").string());
  expect_refused(args, run(args), file.string(), "Not a directory");
  EXPECT_EQ(snapshot(tmp.path()), before);
}

TEST(OutputDirErrors, AnUnwritableParent) {
  TempDir tmp;
  const fs::path parent = tmp.path() / "locked";
  fs::create_directories(parent);
  write_text(parent / "keep.txt", "mine\n");
  fs::permissions(parent, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                              fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  const auto before = snapshot(tmp.path());
  Launch launch{small_run((parent / "out").string())};
  if (geteuid() == 0) {
    launch.as_nobody = true;  // root may write anywhere
    // The scenario must be readable by nobody.
    fs::copy_file(scenario(), tmp.path() / "s.yaml");
    launch.args[1] = (tmp.path() / "s.yaml").string();
  }
  const Outcome o = run(launch);
  if (o.exit_code == 123) GTEST_SKIP() << "cannot run as another user";
  expect_refused(launch.args, o, parent.string(), "Permission denied");
  EXPECT_EQ(snapshot(tmp.path()), [&] {
    auto b = before;
    if (geteuid() == 0) b["s.yaml"] = read_text(scenario());
    return b;
  }());
}

// A write that fails (here: the file size limit, as a full disk would) leaves
// the previous output as it was.
TEST(OutputDirErrors, AFailedWriteKeepsThePreviousOutput) {
  TempDir tmp;
  const fs::path out = tmp.path() / "out";
  ASSERT_EQ(run(small_run(out.string())).exit_code, 0);
  const auto previous = snapshot(tmp.path());
  Launch launch{{"run", scenario(), "-n", "20000", "--threads", "1", "--quiet", "--out", out.string()}};
  launch.file_size_limit = 64 * 1024;
  const Outcome o = run(launch);
  expect_refused(launch.args, o, "scenarios.csv", std::strerror(EFBIG));
  EXPECT_EQ(snapshot(tmp.path()), previous);
  // Small outputs (stress) fail on a later file.
  launch.args = {"stress", scenario(), "--report", "--out", out.string()};
  launch.file_size_limit = 4 * 1024;
  const Outcome s = run(launch);
  expect_refused(launch.args, s, out.string(), std::strerror(EFBIG));
  EXPECT_EQ(snapshot(tmp.path()), previous);
}

// ---- values on the command line -------------------------------------------------------------

TEST(CommandLineValues, SeedsUseAll64Bits) {
  TempDir tmp;
  const auto summary = [&](const std::string& seed) {
    const fs::path out = tmp.path() / ("s" + seed);
    const std::vector<std::string> args{"run", scenario(), "-n",    "500",       "--seed",
                                        seed,  "--quiet",  "--out", out.string()};
    const Outcome o = run(args);
    EXPECT_EQ(o.exit_code, 0) << describe(args, o);
    auto j = nlohmann::json::parse(read_text(out / "summary.json"));
    EXPECT_EQ(j.at("seed").dump(), seed);
    j.erase("seed");
    return j.dump();
  };
  const std::string max63 = summary("9223372036854775807");
  const std::string two63 = summary("9223372036854775808");
  const std::string max64 = summary("18446744073709551615");
  EXPECT_NE(max63, two63);
  EXPECT_NE(two63, max64);
  for (const std::string bad : {"18446744073709551616", "99999999999999999999999", "-1", "0x10", "1e3", "", " 5"}) {
    const std::vector<std::string> args{
        "run", scenario(), "--seed", bad, "--quiet", "--out", (tmp.path() / "bad").string()};
    const Outcome o = run(args);
    SCOPED_TRACE(describe(args, o));
    EXPECT_EQ(o.exit_code, 2);
    EXPECT_THAT(o.err, HasSubstr("--seed"));
    EXPECT_FALSE(fs::exists(tmp.path() / "bad"));
  }
}

TEST(CommandLineValues, MalformedSetKeyPathsAreRejected) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"simulation..scenarios=5", "an empty key before the '.' at character 12"},
      {".simulation.scenarios=5", "it begins with '.'"},
      {"simulation.scenarios.=5", "it ends with '.'"},
      {"ccps.[0].capital=1", "'[' at character 6 follows no key"},
      {"ccps[0]capital=1", "expected '.' or '[' after ']' at character 8"},
      {"ccps[0]].capital=1", "expected '.' or '[' after ']' at character 8"},
      {"ccps[x].capital=1", "index is not a number"},
      {"ccps[0.capital=1", "missing ']'"},
      {"simulation.scen\tarios=5", "a control character at character 16"},
  };
  for (const auto& [set, message] : cases) {
    const std::vector<std::string> args{"validate", scenario(), "--set", set};
    const Outcome o = run(args);
    SCOPED_TRACE(describe(args, o));
    EXPECT_EQ(o.exit_code, 2);
    EXPECT_THAT(o.err, HasSubstr("--set " + set.substr(0, std::min(set.find('='), set.find('\t')))));
    EXPECT_THAT(o.err, HasSubstr("bad key path: " + message));
  }
  const Outcome ok = run({"validate", scenario(), "--set", "ccps[0].capital=3e8", "--set", "ccps.CCP_B.capital=1e8"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST(CommandLineValues, ReverseMaxMultipleMustBeFinite) {
  const std::string file = (source_dir() / "scenarios" / "cover2_linked.yaml").string();
  for (const std::string bad : {"nan", "NaN", "-nan", "inf", "-inf", "0", "1e7", "x"}) {
    const std::vector<std::string> args{"reverse", file, "--ccp", "CCP_A", "--max-multiple", bad};
    const Outcome o = run(args);
    SCOPED_TRACE(describe(args, o));
    EXPECT_EQ(o.exit_code, 2);
    EXPECT_THAT(o.err, HasSubstr("--max-multiple"));
  }
}

TEST(CommandLineValues, SchemaUpdateOnAWrongTarget) {
  TempDir tmp;
  write_text(tmp.path() / "plain.md", "# no markers here\n");
  fs::create_directories(tmp.path() / "dir.md");
  const auto before = snapshot(tmp.path());
  const std::vector<std::pair<std::string, std::string>> cases{
      {(tmp.path() / "plain.md").string(), "no generated key reference to update"},
      {(tmp.path() / "missing.md").string(), "No such file or directory"},
      {(tmp.path() / "dir.md").string(), "it is a directory"},
  };
  for (const auto& [path, why] : cases) {
    const std::vector<std::string> args{"schema", "--update", path};
    expect_refused(args, run(args), path, why);
  }
  EXPECT_EQ(snapshot(tmp.path()), before);
  // The right target: updated.
  fs::copy_file(source_dir() / "scenarios" / "README.md", tmp.path() / "README.md");
  const Outcome ok = run({"schema", "--update", (tmp.path() / "README.md").string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(read_text(tmp.path() / "README.md"), read_text(source_dir() / "scenarios" / "README.md"));
}

// ---- CSV outputs: quoting and formulas ------------------------------------------------------

// The fields of each record of an RFC 4180 CSV text.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, in_quotes = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        in_quotes = false;
      } else {
        field += c;
      }
    } else if (c == '"' && field.empty() && !quoted) {
      in_quotes = quoted = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
      quoted = false;
    } else if (c == '\n') {
      row.push_back(field);
      rows.push_back(row);
      row.clear();
      field.clear();
      quoted = false;
    } else {
      EXPECT_NE(c, '\r') << "a bare CR outside quotes";
      EXPECT_FALSE(quoted) << "text after a closing quote";
      field += c;
    }
  }
  EXPECT_TRUE(field.empty() && row.empty()) << "the text does not end with a newline";
  return rows;
}

TEST(CsvOutputs, FieldsAreQuotedAndFormulasNeutralised) {
  using ccpnet::csv_field;
  EXPECT_EQ(csv_field("CCP_A"), "CCP_A");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_field("cr\rhere"), "\"cr\rhere\"");
  EXPECT_EQ(csv_field("=SUM(A1:A9)"), "'=SUM(A1:A9)");
  EXPECT_EQ(csv_field("+1"), "'+1");
  EXPECT_EQ(csv_field("-2"), "'-2");
  EXPECT_EQ(csv_field("@cmd"), "'@cmd");
  EXPECT_EQ(csv_field("\tx"), "'\tx");
  EXPECT_EQ(csv_field("=1,2"), "\"'=1,2\"");
  EXPECT_EQ(csv_field("a=b"), "a=b");
  EXPECT_EQ(csv_field(""), "");
}

TEST(CsvOutputs, HostileIdsKeepEveryRowAligned) {
  TempDir tmp;
  std::string text = read_text(scenario());
  const auto replace_all = [&](const std::string& from, const std::string& to) {
    for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
      text.replace(at, from.size(), to);
  };
  replace_all("CCP_A", "'=HYPERLINK(\"http://x\",\"A, \"\"b\"\"\")'");
  replace_all("CCP_B", "\"+B\\r\\nnext\"");
  replace_all("M1", "\"@M1,\\\"q\\\"\"");
  replace_all("M2", "\"-M2\\rx\"");
  replace_all("G1", "\"G,1\\n2\"");
  replace_all(
      "  shocks: {model: student_t, dof: 4}\n",
      "  shocks: {model: student_t, dof: 4}\n  stress_scenarios:\n    - name: \"=crash, \\\"big\\\"\\r\\nnow\"\n"
      "      moves: {BTC: -0.6, ETH: -0.7}\n      days: 2\n");
  const fs::path file = tmp.path() / "hostile.yaml";
  write_text(file, text);
  const Outcome v = run({"validate", file.string()});
  ASSERT_EQ(v.exit_code, 0) << v.err << "\n" << text;
  const fs::path out = tmp.path() / "out";
  const Outcome r = run({"run", file.string(), "-n", "300", "--quiet", "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path stress_out = tmp.path() / "stress";
  const Outcome s = run({"stress", file.string(), "--out", stress_out.string()});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  for (const fs::path& csv :
       {out / "scenarios.csv", out / "ccps.csv", out / "members.csv", stress_out / "stress_layers.csv"}) {
    SCOPED_TRACE(csv.string());
    const auto rows = parse_csv(read_text(csv));
    ASSERT_GE(rows.size(), 2u);
    for (const auto& row : rows) {
      EXPECT_EQ(row.size(), rows[0].size());
      for (const auto& field : row) {
        if (field.empty()) continue;
        EXPECT_EQ(std::string("=+@\t\r").find(field[0]), std::string::npos) << field;
        if (field[0] == '-') {  // numbers may be negative, text may not begin with '-'
          EXPECT_NO_THROW((void)std::stod(field)) << field;
        }
      }
    }
  }
  const auto members = parse_csv(read_text(out / "members.csv"));
  bool found = false;
  for (const auto& row : members) found = found || row[0] == "'@M1,\"q\"";
  EXPECT_TRUE(found);
  const auto ccps = parse_csv(read_text(out / "ccps.csv"));
  EXPECT_EQ(ccps[1][0], "'=HYPERLINK(\"http://x\",\"A, \"\"b\"\"\")");
  EXPECT_EQ(ccps[2][0], "'+B\r\nnext");
  const auto layers = parse_csv(read_text(stress_out / "stress_layers.csv"));
  EXPECT_EQ(layers[1][0], "'=crash, \"big\"\r\nnow");
}

}  // namespace test_output_dir
