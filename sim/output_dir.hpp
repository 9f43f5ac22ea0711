// Replacing an output directory without ever losing a file that is not ours.
//
// A command's results are written into a staging directory next to the target
// (`.NAME.ccpnet-staging.HOST.PID`) and swapped into place at the end:
// the old output is renamed aside (`.NAME.ccpnet-old.HOST.PID`), the staging
// directory renamed to the target, the old output removed. If the second rename
// fails the old output is put back. The target is replaced only when it is
// absent, empty, or recognisably ccpnet's own output: a manifest.json written
// by ccpnet that lists every file in the directory. Anything else, and the
// working directory or one of its parents, is refused (InputError, exit 2).
//
// Staging and set-aside directories of runs that died (their process is gone)
// are removed, or the set-aside output restored, by the next run into the same
// place. Only directories whose name and content are recognisably ccpnet's are
// ever removed.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace ccpnet {

class OutputDirectory {
 public:
  // Checks `target` (as the user gave it) and creates the staging directory.
  // Throws InputError with the path and the reason.
  explicit OutputDirectory(const std::string& target);
  ~OutputDirectory();  // removes the staging directory unless committed
  OutputDirectory(const OutputDirectory&) = delete;
  OutputDirectory& operator=(const OutputDirectory&) = delete;

  const std::filesystem::path& staging() const { return staging_; }
  const std::filesystem::path& target() const { return target_; }  // absolute, symbolic links resolved

  // Moves the staging directory into place (the old output, if any, is
  // replaced). On failure the old output is left as it was; throws InputError.
  void commit();

  // `message` (of a failure to write into the staging directory) as the
  // message of an InputError about this output directory.
  std::string failure(const std::string& message) const;

 private:
  std::string given_;
  std::filesystem::path target_;
  std::filesystem::path staging_;
  bool committed_ = false;
};

// The checks of OutputDirectory, creating nothing: throws InputError when
// `target` may not be replaced. For a command that writes its output at the
// end, to fail before the work.
void check_output_directory(const std::string& target);

// Why `dir` may not be replaced by a new output, or "" when it may: it does not
// exist, is empty, or holds a ccpnet output whose manifest lists every file.
std::string replace_refusal(const std::filesystem::path& dir);

// Writes a file, all or nothing reported: throws InputError "PATH: cannot
// write: REASON" (the OS's reason) on failure.
void write_output_file(const std::filesystem::path& path, std::string_view bytes);

// An InputError message for a failed I/O call on `path`: "PATH: WHAT: strerror(err)".
std::string io_error(const std::filesystem::path& path, std::string_view what, int err);

// Removes the staging directories of this process; waits for a commit under
// way to finish first. For a signal that ends the process.
void abandon_staging_directories() noexcept;

// The output files' names under which ccpnet marks its staging directories.
inline constexpr std::string_view kStagingMarker = ".ccpnet-staging";

}  // namespace ccpnet
