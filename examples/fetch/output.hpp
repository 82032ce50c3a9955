// Where one transfer's bytes go: stdout, or a file opened at the first byte written, as
// curl does, so that a transfer that fails before any output (-f on a 404, a refused
// connect) leaves no file behind. Writes go straight through: nothing is held beyond
// stdio's buffer, whatever the size of the download.
#pragma once

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace fetch {

class output {
 public:
  /// The file at `path`, created (or truncated, or appended to when `append`) at the
  /// first write; stdout for nullopt or "-". An empty path (-O on a URL ending in '/')
  /// fails at the first write.
  explicit output(std::optional<std::string> path, bool append = false) : append_(append) {
    if (path && *path != "-") {
      path_ = std::move(*path);
      is_file_ = true;
    }
  }

  output(const output&) = delete;
  output& operator=(const output&) = delete;
  ~output() { close(); }

  bool to_stdout() const noexcept { return !is_file_; }
  const std::string& path() const noexcept { return path_; }

  /// Writes `bytes`; false when the file cannot be created or written (curl's 23).
  bool write(std::string_view bytes) {
    if (!open()) return false;
    if (bytes.empty()) return true;
    return std::fwrite(bytes.data(), 1, bytes.size(), file_) == bytes.size();
  }

  /// Names the file `path` in place of the one given, before anything was written; it
  /// must not exist yet (curl's -J never overwrites a file). False when it was opened
  /// already or is stdout.
  bool rename_new(std::string path) {
    if (file_ || !is_file_) return false;
    path_ = std::move(path);
    exclusive_ = true;
    return true;
  }
  /// Whether rename_new() named it.
  bool renamed() const noexcept { return exclusive_; }

  /// --no-clobber: a file already there is left alone, and the first of "NAME.1" to
  /// "NAME.99" not there yet is written instead, as curl writes it.
  void never_overwrite() noexcept { no_clobber_ = true; }

  /// --remove-on-error: closes the file this made, and removes it.
  void remove() {
    if (!file_ || file_ == stdout) return;
    close();
    std::remove(path_.c_str());
  }

  /// Makes each directory of the file's path in turn that is not there (curl's
  /// --create-dirs: mode 0750, less the umask), before the transfer starts, as curl makes
  /// them. One that cannot be made shows when the file cannot be created.
  void make_directories() const {
    if (!is_file_) return;
    for (auto slash = path_.find('/', 1); slash != std::string::npos;
         slash = path_.find('/', slash + 1))
      ::mkdir(path_.substr(0, slash).c_str(), 0750);
  }

  /// Creates the file even though nothing was written: curl leaves an empty file after
  /// a successful transfer with an empty body.
  bool create() { return open(); }

  /// Flushes stdout, closes a file. False if buffered bytes could not be written.
  bool close() {
    bool ok = true;
    if (file_ && file_ != stdout)
      ok = std::fclose(file_) == 0;
    else if (file_)
      ok = std::fflush(file_) == 0;
    file_ = nullptr;
    return ok;
  }

 private:
  bool open() {
    if (file_) return true;
    if (!is_file_) {
      file_ = stdout;
      return true;
    }
    const bool exclusive = exclusive_ || (no_clobber_ && !append_);
    file_ = std::fopen(path_.c_str(), append_ ? "ab" : exclusive ? "wbx" : "wb");
    for (int n = 1; !file_ && no_clobber_ && !append_ && (errno == EEXIST || errno == EISDIR) &&
                    n < 100;
         ++n) {
      const std::string numbered = path_ + "." + std::to_string(n);
      file_ = std::fopen(numbered.c_str(), "wbx");
      if (file_) path_ = numbered;
    }
    return file_ != nullptr;
  }

  std::string path_;
  bool append_ = false;
  bool exclusive_ = false;
  bool no_clobber_ = false;
  bool is_file_ = false;
  std::FILE* file_ = nullptr;
};

}  // namespace fetch
