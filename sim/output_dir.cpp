#include "sim/output_dir.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

#include "sim/errors.hpp"
#include "sim/model.hpp"

namespace ccpnet {

namespace fs = std::filesystem;

namespace {

// Staging directories of this process, removed if a signal ends it. The mutex
// is held while a directory is swapped into place, so that a signal waits for
// the swap to finish rather than interrupting it.
std::mutex g_mutex;
std::vector<fs::path> g_live;

void forget_live(const fs::path& dir) { g_live.erase(std::remove(g_live.begin(), g_live.end(), dir), g_live.end()); }

// The names of the files ccpnet writes into an output directory (and, for
// scenarios.part-N, into a staging directory of a distributed run).
bool known_output_name(const std::string& name) {
  static const std::set<std::string> names{"summary.json",
                                           "scenarios.csv",
                                           "ccps.csv",
                                           "members.csv",
                                           "chains.csv",
                                           "bridges.csv",
                                           "scenario.resolved.yaml",
                                           "manifest.json",
                                           "run.json",
                                           "report.html",
                                           "stress.json",
                                           "stress_layers.csv",
                                           "compare.json",
                                           std::string(kStagingMarker)};
  if (names.count(name)) return true;
  constexpr std::string_view part = "scenarios.part-";
  if (name.size() > part.size() && name.compare(0, part.size(), part) == 0)
    return std::all_of(name.begin() + static_cast<std::ptrdiff_t>(part.size()), name.end(),
                       [](unsigned char c) { return std::isdigit(c) != 0; });
  return false;
}

// This host's name as it appears in staging directory names: letters, digits
// and '-' only, so that it cannot contain the '.' that separates the fields.
const std::string& host_tag() {
  static const std::string tag = [] {
    std::array<char, 256> buffer{};
    if (gethostname(buffer.data(), buffer.size() - 1) != 0) return std::string("localhost");
    std::string out;
    for (const char* c = buffer.data(); *c; ++c)
      out += std::isalnum(static_cast<unsigned char>(*c)) || *c == '-' ? *c : '_';
    return out.empty() ? std::string("localhost") : out;
  }();
  return tag;
}

std::string staging_name(const std::string& name, std::string_view kind, long pid) {
  return fmt::format(".{}.ccpnet-{}.{}.{}", name, kind, host_tag(), pid);
}

std::optional<long> parse_pid(std::string_view text) {
  long pid = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (ec != std::errc{} || ptr != text.data() + text.size() || pid <= 0) return std::nullopt;
  return pid;
}

// Whether process `pid` of this host may still be running (a process of
// another user counts as running).
bool process_alive(long pid) { return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH; }

std::string reason(const std::error_code& ec) { return ec.message(); }

// The entries of `dir`: name and type (a symbolic link is not followed).
struct Entry {
  std::string name;
  fs::file_type type;
};
std::optional<std::vector<Entry>> list_directory(const fs::path& dir, std::error_code& ec) {
  std::vector<Entry> out;
  fs::directory_iterator it(dir, ec);
  if (ec) return std::nullopt;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return std::nullopt;
    std::error_code type_ec;
    out.push_back({it->path().filename().string(), it->symlink_status(type_ec).type()});
  }
  if (ec) return std::nullopt;
  return out;
}

// A staging directory of ccpnet: a real directory of plain files, with the
// marker or only with the names of ccpnet's outputs.
bool recognisable_staging(const fs::path& dir) {
  std::error_code ec;
  if (fs::symlink_status(dir, ec).type() != fs::file_type::directory) return false;
  const auto entries = list_directory(dir, ec);
  if (!entries) return false;
  bool marked = false, all_known = true;
  for (const auto& e : *entries) {
    if (e.type != fs::file_type::regular) return false;
    marked = marked || e.name == kStagingMarker;
    all_known = all_known && known_output_name(e.name);
  }
  return marked || all_known;
}

// Whether `a` is `b` or one of its parents (both absolute and canonical).
bool is_same_or_parent(const fs::path& a, const fs::path& b) {
  auto ai = a.begin(), bi = b.begin();
  for (; ai != a.end(); ++ai, ++bi) {
    if (ai->empty()) continue;  // a trailing separator
    if (bi == b.end() || *ai != *bi) return false;
  }
  return true;
}

// `given` as an absolute path with symbolic links, '.', '..' and trailing
// separators resolved.
fs::path resolve_target(const std::string& given) {
  const std::string label = fmt::format("output directory {}", given);
  if (given.empty()) throw InputError("output directory: the path is empty");
  std::error_code ec;
  fs::path path = fs::weakly_canonical(fs::absolute(fs::path(given), ec), ec);
  if (ec) throw InputError(fmt::format("{}: cannot resolve the path: {}", label, reason(ec)));
  path = path.lexically_normal();
  while (!path.has_filename() && path.has_relative_path()) path = path.parent_path();
  if (!path.has_relative_path() || path.filename() == "." || path.filename() == "..")
    throw InputError(fmt::format("{}: refusing to replace the root directory", label));
  std::error_code cwd_ec;
  const fs::path cwd = fs::canonical(fs::current_path(cwd_ec), cwd_ec);
  if (!cwd_ec && is_same_or_parent(path, cwd)) {
    throw InputError(fmt::format("{}: it is the working directory{}; refusing to replace it (give a new directory)",
                                 label, path == cwd ? "" : fmt::format(" ({}) or one of its parents", cwd.string())));
  }
  // A symbolic link to nothing: renaming onto it would fail late (or replace the link).
  if (fs::symlink_status(path, ec).type() == fs::file_type::symlink)
    throw InputError(fmt::format("{}: it is a symbolic link to a path that does not exist", label));
  return path;
}

// Removes the staging directories of dead runs into parent/name; puts back an
// old output that a dead run had moved aside and not yet replaced.
void remove_stale(const fs::path& parent, const std::string& name, const fs::path& target) {
  std::error_code ec;
  const auto entries = list_directory(parent, ec);
  if (!entries) return;
  const std::string prefix = "." + name + ".ccpnet-";
  const std::string legacy = "." + name + ".partial-";
  std::vector<std::pair<fs::path, bool>> stale;  // {directory, is an old output moved aside}
  for (const auto& e : *entries) {
    if (e.type != fs::file_type::directory) continue;
    if (e.name.rfind(legacy, 0) == 0) {
      // A staging directory of an earlier version of ccpnet: no host in the name.
      if (const auto pid = parse_pid(std::string_view(e.name).substr(legacy.size())); pid && !process_alive(*pid))
        stale.emplace_back(parent / e.name, false);
      continue;
    }
    if (e.name.rfind(prefix, 0) != 0) continue;
    const std::string rest = e.name.substr(prefix.size());  // KIND.HOST.PID
    const auto first_dot = rest.find('.'), last_dot = rest.rfind('.');
    if (first_dot == std::string::npos || last_dot == first_dot) continue;
    const std::string kind = rest.substr(0, first_dot);
    if (kind != "staging" && kind != "old") continue;
    if (rest.substr(first_dot + 1, last_dot - first_dot - 1) != host_tag()) continue;  // another host's
    const auto pid = parse_pid(std::string_view(rest).substr(last_dot + 1));
    if (!pid || *pid == static_cast<long>(getpid()) || process_alive(*pid)) continue;
    stale.emplace_back(parent / e.name, kind == "old");
  }
  for (const auto& [dir, old] : stale) {
    if (old) {
      std::error_code list_ec;
      const auto files = list_directory(dir, list_ec);
      if (!files || files->empty() || !replace_refusal(dir).empty()) continue;  // not an output of ours
      if (fs::symlink_status(target, ec).type() == fs::file_type::not_found) {
        if (::rename(dir.c_str(), target.c_str()) == 0)
          std::cerr << fmt::format("ccpnet: restored {}: a run that ended while replacing it had moved it aside\n",
                                   target.string());
        continue;
      }
    } else if (!recognisable_staging(dir)) {
      continue;
    }
    fs::remove_all(dir, ec);
  }
}

// Writes every file of `dir` and the directory itself to the disk (a full
// disk or an I/O error shows here, at the latest).
void sync_directory(const fs::path& dir) {
  std::error_code ec;
  const auto entries = list_directory(dir, ec);
  if (!entries) throw InputError(io_error(dir, "cannot read the directory", ec.value()));
  for (const auto& e : *entries) {
    if (e.type != fs::file_type::regular) continue;
    const fs::path file = dir / e.name;
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw InputError(io_error(file, "cannot open", errno));
    if (::fsync(fd) != 0 && errno != EINVAL) {
      const int err = errno;
      ::close(fd);
      throw InputError(io_error(file, "cannot write", err));
    }
    ::close(fd);
  }
  if (const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); fd >= 0) {
    (void)::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

std::string io_error(const fs::path& path, std::string_view what, int err) {
  return fmt::format("{}: {}: {}", path.string(), what, std::strerror(err));
}

void write_output_file(const fs::path& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) throw InputError(io_error(path, "cannot create the file", errno));
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      ::close(fd);
      throw InputError(io_error(path, "cannot write", err));
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) throw InputError(io_error(path, "cannot write", errno));
}

std::string replace_refusal(const fs::path& dir) {
  std::error_code ec;
  const auto status = fs::symlink_status(dir, ec);
  if (status.type() == fs::file_type::not_found) return "";
  if (ec) return "cannot examine it: " + reason(ec);
  if (status.type() != fs::file_type::directory)
    return fmt::format("it exists and is not a directory ({})", std::strerror(ENOTDIR));
  const auto entries = list_directory(dir, ec);
  if (!entries) return "cannot read the directory: " + reason(ec);
  if (entries->empty()) return "";
  const auto manifest_entry =
      std::find_if(entries->begin(), entries->end(), [](const Entry& e) { return e.name == "manifest.json"; });
  const std::string not_ours =
      "the directory is not empty and is not an output of ccpnet (a manifest.json written by ccpnet, listing every "
      "file in the directory); refusing to replace it: choose another directory, or move its files away";
  if (manifest_entry == entries->end() || manifest_entry->type != fs::file_type::regular) return not_ours;
  // manifest.json: a JSON object with ccpnet_version and outputs, as ccpnet writes it.
  std::set<std::string> listed{"manifest.json"};
  {
    std::ifstream in(dir / "manifest.json", std::ios::binary);
    std::string text;
    std::array<char, 1 << 16> chunk{};
    while (in && text.size() <= (16u << 20)) {
      in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
    }
    const auto manifest = nlohmann::json::parse(text, nullptr, false);
    if (manifest.is_discarded() || !manifest.is_object() || !manifest.contains("ccpnet_version") ||
        !manifest["ccpnet_version"].is_string() || !manifest.contains("outputs") || !manifest["outputs"].is_object())
      return "its manifest.json was not written by ccpnet; " + not_ours.substr(not_ours.find("refusing"));
    for (const auto& [name, hash] : manifest["outputs"].items()) listed.insert(name);
    if (manifest.contains("unhashed_outputs") && manifest["unhashed_outputs"].is_array()) {
      for (const auto& name : manifest["unhashed_outputs"])
        if (name.is_string()) listed.insert(name.get<std::string>());
    } else if (manifest.contains("partial")) {
      listed.insert("run.json");  // a run's output written before its manifest listed run.json
    }
  }
  for (const auto& e : *entries) {
    if (e.type == fs::file_type::regular && listed.count(e.name)) continue;
    return fmt::format(
        "it holds '{}', which is not one of the files of the ccpnet output listed in its manifest.json; refusing to "
        "replace the directory: choose another directory, or move that file away",
        e.name);
  }
  return "";
}

void check_output_directory(const std::string& target) {
  if (const std::string refusal = replace_refusal(resolve_target(target)); !refusal.empty())
    throw InputError(fmt::format("output directory {}: {}", target, refusal));
}

OutputDirectory::OutputDirectory(const std::string& target) : given_(target), target_(resolve_target(target)) {
  const std::string label = fmt::format("output directory {}", given_);
  const fs::path parent = target_.parent_path();
  const std::string name = target_.filename().string();
  remove_stale(parent, name, target_);
  if (const std::string refusal = replace_refusal(target_); !refusal.empty())
    throw InputError(fmt::format("{}: {}", label, refusal));
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) throw InputError(fmt::format("{}: {}", label, io_error(parent, "cannot create the directory", ec.value())));
  const fs::path staging = parent / staging_name(name, "staging", static_cast<long>(getpid()));
  {
    const std::lock_guard lock(g_mutex);
    // A directory of that name is a dead run's whose process id was ours.
    if (recognisable_staging(staging)) fs::remove_all(staging, ec);
    if (::mkdir(staging.c_str(), 0777) != 0)
      throw InputError(fmt::format("{}: {}", label, io_error(staging, "cannot create the staging directory", errno)));
    staging_ = staging;
    g_live.push_back(staging_);
  }
  write_output_file(staging_ / kStagingMarker, "");
}

OutputDirectory::~OutputDirectory() {
  if (committed_ || staging_.empty()) return;
  const std::lock_guard lock(g_mutex);
  std::error_code ec;
  fs::remove_all(staging_, ec);
  forget_live(staging_);
}

void OutputDirectory::commit() {
  const std::string label = fmt::format("output directory {}", given_);
  if (::unlink((staging_ / kStagingMarker).c_str()) != 0 && errno != ENOENT)
    throw InputError(fmt::format("{}: {}", label, io_error(staging_ / kStagingMarker, "cannot remove", errno)));
  sync_directory(staging_);
  // The directory may have changed during the run (a file added to it).
  if (const std::string refusal = replace_refusal(target_); !refusal.empty())
    throw InputError(fmt::format("{}: {}", label, refusal));
  const fs::path parent = target_.parent_path();
  fs::path old;
  {
    const std::lock_guard lock(g_mutex);
    std::error_code ec;
    if (fs::symlink_status(target_, ec).type() != fs::file_type::not_found) {
      old = parent / staging_name(target_.filename().string(), "old", static_cast<long>(getpid()));
      if (::rename(target_.c_str(), old.c_str()) != 0)
        throw InputError(fmt::format("{}: {}", label, io_error(target_, "cannot move the old output aside", errno)));
    }
    if (::rename(staging_.c_str(), target_.c_str()) != 0) {
      const int err = errno;
      if (!old.empty()) (void)::rename(old.c_str(), target_.c_str());  // the old output, back in place
      throw InputError(fmt::format("{}: {}", label, io_error(target_, "cannot move the new output into place", err)));
    }
    committed_ = true;
    forget_live(staging_);
    if (const int fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); fd >= 0) {
      (void)::fsync(fd);
      ::close(fd);
    }
  }
  if (!old.empty()) {
    std::error_code ec;
    fs::remove_all(old, ec);
    if (ec) std::cerr << fmt::format("warning: cannot remove the old output {}: {}\n", old.string(), reason(ec));
  }
}

std::string OutputDirectory::failure(const std::string& message) const {
  const std::string label = fmt::format("output directory {}", given_);
  if (message.rfind(label, 0) == 0) return message;
  return fmt::format("{}: {}; the directory is left as it was", label, message);
}

void abandon_staging_directories() noexcept {
  const std::lock_guard lock(g_mutex);
  for (const auto& dir : g_live) {
    // Twice: a file being created while the first pass ran.
    std::error_code ec;
    fs::remove_all(dir, ec);
    if (ec) fs::remove_all(dir, ec);
  }
  g_live.clear();
}

}  // namespace ccpnet
