// -T/--upload-file: a URL's body read from a file, or from stdin for "-" (and "."), sent
// with PUT as curl sends it: Content-Length for a file, chunked for stdin, and
// "Expect: 100-continue" unless the file is empty. A URL with no file name part gets the
// file's.
#pragma once

#include "percent_encoding.hpp"

#include <opensock/http/request_body.hpp>

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace fetch {

/// Whether -T's argument names stdin rather than a file.
inline bool uploads_stdin(std::string_view file) { return file == "-" || file == "."; }

/// `text` (a URL as given, before any scheme is assumed) with the upload's file name
/// appended when it has no file name part, as curl's add_file_name_to_url() does: the
/// part after the last '/' past "://" is empty, or there is no '/' at all; the name is
/// what follows the file's last '/' or '\', percent-encoded but for RFC 3986's unreserved
/// characters. Nothing is appended for stdin.
inline std::string with_upload_name(std::string text, std::string_view file) {
  if (uploads_stdin(file)) return text;
  const auto scheme_end = text.find("://");
  const std::size_t from = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const auto slash = text.rfind('/');
  const bool has_slash = slash != std::string::npos && slash >= from;
  if (has_slash && slash + 1 < text.size()) return text;
  std::string_view name = file;
  if (const auto cut = name.find_last_of("/\\"); cut != std::string_view::npos)
    name.remove_prefix(cut + 1);
  if (!has_slash) text += '/';
  append_percent_encoded(text, name);
  return text;
}

struct upload {
  opensock::http::request_body body;
  /// The file's size (all of it, whatever the offset); nullopt for stdin, sent chunked.
  std::optional<std::uint64_t> length;
};

/// The body of -T `file`: the file read as it is sent (from `offset` on, for -C), or
/// stdin read as it comes. nullopt when the file cannot be read (curl's "Can't open":
/// 26).
inline std::optional<upload> open_upload(const std::string& file, std::uint64_t offset = 0) {
  if (uploads_stdin(file)) {
    // curl reads stdin with blocking reads too; the transfer waits for it.
    auto read_stdin = [](asio::mutable_buffer room) -> asio::awaitable<std::size_t> {
      ssize_t n;
      do n = ::read(STDIN_FILENO, room.data(), room.size());
      while (n < 0 && errno == EINTR);
      if (n < 0) throw std::system_error(errno, std::generic_category(), "reading stdin");
      co_return static_cast<std::size_t>(n);
    };
    return upload{opensock::http::request_body::producer(read_stdin), std::nullopt};
  }
  std::error_code ec;
  const std::filesystem::path path(file);
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || ::access(file.c_str(), R_OK) != 0) return std::nullopt;
  return upload{opensock::http::request_body::file(path, offset), size};
}

}  // namespace fetch
