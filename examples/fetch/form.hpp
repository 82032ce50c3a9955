// -F/--form and --form-string: a multipart/form-data body (RFC 7578) as curl builds one.
// Each -F is a part: "name=text", "name=@file" (the file itself, named by its last path
// segment), "name=<file" (the file's bytes as the value), "@-" and "<-" for stdin; after
// the value, ";type=", ";filename=" and ";headers=" (a field, or @file of them), and a
// value in double quotes may hold ';' and ',' (with \" and \\ inside). Several files in
// one part ("name=@a,b;type=t,c") are a multipart/mixed part of their own, each file an
// attachment in it. The parts' heads are written as curl writes them: Content-Disposition
// with the name and file name (", CR and LF as %22, %0D, %0A; with --form-escape, \ and
// " escaped by a backslash), a Content-Type given or guessed from the file name's
// extension, then the part's own fields. Files are read as the body is sent.
#pragma once

#include "command_line.hpp"

#include <opensock/http/fields.hpp>
#include <opensock/http/request_body.hpp>

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace fetch {

/// The body of every -F of a group: its boundary and its bytes, the files among them read
/// as they are sent.
class form {
 public:
  /// The parts of `specs`, in order. `warnings` gets what curl warns of (an unknown
  /// parameter, a headers file that cannot be read); `error` what makes curl refuse the
  /// command line ("option -F: is badly used here"), or a file that cannot be read (26).
  /// `backslash_escapes`: names and file names escaped as --form-escape says.
  static std::optional<form> make(const std::vector<form_spec>& specs, bool backslash_escapes,
                                  std::vector<std::string>& warnings, std::string& error,
                                  int& error_code);

  /// Writes the parts under the request's Content-Type, `type` (multipart/form-data, or
  /// what -H set): each part is "form-data" under multipart/form-data, as curl writes
  /// it, and an "attachment" under any other type. Before size() and body().
  void frame(std::string_view type);

  const std::string& boundary() const noexcept { return boundary_; }
  std::uint64_t size() const noexcept { return size_; }

  /// The body, from its start: a new producer each time (a retry, a 307 or 308).
  opensock::http::request_body body() const;

 private:
  // A run of bytes in memory, or the first `size` bytes of a file.
  struct piece {
    std::string bytes;
    std::string file;
    std::uint64_t size = 0;
  };

  void add_bytes(std::string bytes) {
    size_ += bytes.size();
    if (!pieces_.empty() && pieces_.back().file.empty()) {
      pieces_.back().bytes += bytes;
      pieces_.back().size += bytes.size();
      return;
    }
    piece p;
    p.size = bytes.size();
    p.bytes = std::move(bytes);
    pieces_.push_back(std::move(p));
  }
  void add_file(std::string path, std::uint64_t size) {
    size_ += size;
    piece p;
    p.file = std::move(path);
    p.size = size;
    pieces_.push_back(std::move(p));
  }

  struct part;
  void add_part(const part& p, bool form_data);

  std::vector<part> parts_;
  std::string boundary_;
  bool backslash_escapes_ = false;
  std::vector<piece> pieces_;
  std::uint64_t size_ = 0;
};

namespace detail {

constexpr bool is_blank(char c) { return c == ' ' || c == '\t'; }

// One word of a -F value from `at`, as curl's get_param_word() reads it: up to ';' or
// `end_char`, or a double-quoted word (\" and \\ escaped inside) when one ends before
// them. `at` is left on the delimiter; `quoted` says whether it was quoted. Bytes
// after a closing quote are skipped, with a warning.
inline std::string form_word(std::string_view text, std::size_t& at, char end_char,
                             bool& quoted, std::vector<std::string>& warnings) {
  quoted = false;
  if (at < text.size() && text[at] == '"') {
    std::string word;
    for (std::size_t i = at + 1; i < text.size(); ++i) {
      if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == '\\' || text[i + 1] == '"')) {
        word += text[++i];
        continue;
      }
      if (text[i] != '"') {
        word += text[i];
        continue;
      }
      quoted = true;
      bool trailing = false;
      for (at = i + 1; at < text.size() && text[at] != ';' && text[at] != end_char; ++at)
        trailing = trailing || !is_blank(text[at]);
      if (trailing) warnings.emplace_back("Trailing data after quoted form parameter");
      return word;
    }
    // No closing quote: read as not quoted.
  }
  const std::size_t from = at;
  while (at < text.size() && text[at] != ';' && text[at] != end_char) ++at;
  return std::string(text.substr(from, at - from));
}

// A word read not quoted loses its trailing blanks, as in curl.
inline std::string form_value(std::string_view text, std::size_t& at, char end_char,
                              std::vector<std::string>& warnings) {
  while (at < text.size() && is_blank(text[at])) ++at;
  bool quoted = false;
  std::string word = form_word(text, at, end_char, quoted, warnings);
  if (!quoted)
    while (!word.empty() && is_blank(word.back())) word.pop_back();
  return word;
}

// A headers=@file's fields: a line each, '#' lines skipped, a line starting with a space
// continuing the one before, line ends and trailing blanks off, empty lines skipped.
inline bool read_field_headers(const std::string& path, std::vector<std::string>& headers) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.front() == '#') continue;
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || is_blank(line.back())))
      line.pop_back();
    if (line.empty()) continue;
    if (line.front() == ' ' && !headers.empty()) {
      headers.back() += line;
    } else {
      headers.push_back(std::move(line));
    }
  }
  return true;
}

// A part as the command line gives it.
struct form_part {
  std::optional<std::string> name;
  std::string data;  // the text, or the file's path
  enum class kind { text, file, file_data, stdin_file, stdin_data, files } how = kind::text;
  std::optional<std::string> filename;
  std::optional<std::string> type;
  std::vector<std::string> headers;
  std::vector<form_part> files;  // kind::files: "name=@a,b", each file with its parameters
};

// The value's parameters after `data`, from `at` (on ';' or the end), as curl's
// get_param_part(): type= (which runs on over later parameters it does not know, as in
// "type=text/plain; charset=utf-8"), filename=, headers=; unknown ones are skipped with
// a warning. False on an encoder= (not built) or a headers file curl fails on.
inline bool form_parameters(std::string_view text, std::size_t& at, char end_char,
                            form_part& part, std::vector<std::string>& warnings,
                            std::string& error) {
  std::optional<std::size_t> type_from;  // the type's first byte while it may run on
  std::size_t type_end = 0;
  const auto close_type = [&] {
    if (type_from) part.type = std::string(text.substr(*type_from, type_end - *type_from));
    type_from.reset();
  };
  while (at < text.size() && text[at] == ';') {
    ++at;
    while (at < text.size() && is_blank(text[at])) ++at;
    const std::string_view rest = text.substr(at);
    const auto starts = [&](std::string_view prefix) {
      return opensock::http::iequals(rest.substr(0, prefix.size()), prefix);
    };
    if (!type_from && !part.type && starts("type=")) {
      at += 5;
      while (at < text.size() && is_blank(text[at])) ++at;
      type_from = at;
      while (at < text.size() && !std::strchr("()<>@,;:\\\"[]?=\r\n ", text[at])) ++at;
      type_end = at;
    } else if (starts("filename=")) {
      close_type();
      at += 9;
      part.filename = form_value(text, at, end_char, warnings);
    } else if (starts("headers=")) {
      close_type();
      at += 8;
      if (at < text.size() && (text[at] == '@' || text[at] == '<')) {
        ++at;
        const std::string path = form_value(text, at, end_char, warnings);
        if (!read_field_headers(path, part.headers))
          warnings.push_back("Cannot read from " + path + ": No such file or directory");
      } else {
        part.headers.push_back(form_value(text, at, end_char, warnings));
      }
    } else if (starts("encoder=")) {
      error = "a form part's encoder= is not built in to opensock-fetch";
      return false;
    } else if (type_from) {
      // More of the type: up to the next ';', its trailing blanks left out.
      for (; at < text.size() && text[at] != ';' && text[at] != end_char; ++at)
        if (!is_blank(text[at])) type_end = at + 1;
    } else {
      bool quoted = false;
      const std::string unknown = form_word(text, at, end_char, quoted, warnings);
      if (!unknown.empty()) warnings.push_back("skip unknown form field: " + unknown);
    }
  }
  close_type();
  return true;
}

// One -F value as curl's formparse() reads it; false (with `error`) when curl refuses it.
inline bool read_form_part(const form_spec& spec, std::vector<form_part>& parts,
                           std::vector<std::string>& warnings, std::string& error) {
  const std::string_view text = spec.text;
  const auto equals = text.find('=');
  if (equals == std::string_view::npos) {
    warnings.emplace_back("Illegally formatted input field");
    return false;
  }
  form_part part;
  if (equals > 0) part.name = std::string(text.substr(0, equals));
  std::size_t at = equals + 1;
  if (spec.literal) {
    part.data = std::string(text.substr(at));
    parts.push_back(std::move(part));
    return true;
  }
  const char first = at < text.size() ? text[at] : '\0';
  if (first == '(' || (!part.name && text.substr(at) == ")")) {
    error = "multipart parts nested with -F 'name=(' are not built in to opensock-fetch";
    return false;
  }
  if (first == '@') {
    // Files up to ',' each, with their own parameters.
    do {
      ++at;
      form_part file;
      file.data = form_value(text, at, ',', warnings);
      file.how = file.data == "-" ? form_part::kind::stdin_file : form_part::kind::file;
      if (!form_parameters(text, at, ',', file, warnings, error)) return false;
      part.files.push_back(std::move(file));
    } while (at < text.size() && text[at] == ',');
    if (part.files.size() == 1) {
      part.files.front().name = std::move(part.name);
      parts.push_back(std::move(part.files.front()));
    } else {
      part.how = form_part::kind::files;
      parts.push_back(std::move(part));
    }
    return true;
  }
  if (first == '<') {
    ++at;
    part.data = form_value(text, at, '\0', warnings);
    part.how = part.data == "-" ? form_part::kind::stdin_data : form_part::kind::file_data;
  } else {
    part.data = form_value(text, at, '\0', warnings);
  }
  if (!form_parameters(text, at, '\0', part, warnings, error)) return false;
  if (part.how != form_part::kind::text && part.filename) {
    warnings.push_back("Field filename not allowed here: " + *part.filename);
    part.filename.reset();
  }
  parts.push_back(std::move(part));
  return true;
}

// curl's guess of a file's type from its name's extension.
inline std::optional<std::string_view> type_of_name(std::string_view name) {
  static constexpr std::pair<std::string_view, std::string_view> types[] = {
      {".gif", "image/gif"},    {".jpg", "image/jpeg"},     {".jpeg", "image/jpeg"},
      {".png", "image/png"},    {".svg", "image/svg+xml"},  {".txt", "text/plain"},
      {".htm", "text/html"},    {".html", "text/html"},     {".pdf", "application/pdf"},
      {".xml", "application/xml"}};
  for (const auto& [extension, type] : types) {
    if (name.size() >= extension.size() &&
        opensock::http::iequals(name.substr(name.size() - extension.size()), extension))
      return type;
  }
  return std::nullopt;
}

// A name or file name in Content-Disposition: ", CR and LF as %22, %0D and %0A (the
// HTML standard's escaping, curl's default), or with `backslash_escapes` \ and " after
// a backslash (--form-escape).
inline std::string disposition_escaped(std::string_view text, bool backslash_escapes) {
  std::string out;
  for (const char c : text) {
    if (backslash_escapes) {
      if (c == '\\' || c == '"') out += '\\';
      out += c;
    } else if (c == '"') {
      out += "%22";
    } else if (c == '\r') {
      out += "%0D";
    } else if (c == '\n') {
      out += "%0A";
    } else {
      out += c;
    }
  }
  return out;
}

// The value of the first of `headers` named `name`, blanks after the colon left out.
inline std::optional<std::string> field_in(const std::vector<std::string>& headers,
                                           std::string_view name) {
  for (const auto& h : headers) {
    if (h.size() <= name.size() || h[name.size()] != ':' ||
        !opensock::http::iequals(std::string_view(h).substr(0, name.size()), name))
      continue;
    std::size_t from = name.size() + 1;
    while (from < h.size() && is_blank(h[from])) ++from;
    return h.substr(from);
  }
  return std::nullopt;
}

// Whether a Content-Type value is of `type` (its parameters apart), as curl compares.
inline bool type_is(std::string_view value, std::string_view type) {
  if (!opensock::http::iequals(value.substr(0, type.size()), type)) return false;
  return value.size() == type.size() || value[type.size()] == ';' ||
         is_blank(value[type.size()]);
}

// A part's head as curl's Curl_mime_prepare_headers() writes it; `form_data`: the
// request's type is multipart/form-data.
inline std::string part_head(const form_part& part, const std::optional<std::string>& filename,
                             bool form_data, bool backslash_escapes) {
  const bool from_file =
      part.how == form_part::kind::file || part.how == form_part::kind::file_data;
  std::optional<std::string> type = part.type ? part.type : field_in(part.headers, "Content-Type");
  if (!type) {
    std::optional<std::string_view> guessed = filename ? type_of_name(*filename) : std::nullopt;
    if (!guessed && from_file) guessed = type_of_name(part.data);
    if (!guessed && from_file && filename) guessed = "application/octet-stream";
    if (guessed) type = std::string(*guessed);
    // A guessed text/plain goes unsaid on a part without a file name.
    if (type && !filename && type_is(*type, "text/plain")) type.reset();
  }
  std::string head;
  if (!field_in(part.headers, "Content-Disposition") && (form_data || part.name || filename)) {
    head += form_data ? "Content-Disposition: form-data" : "Content-Disposition: attachment";
    if (part.name) head += "; name=\"" + disposition_escaped(*part.name, backslash_escapes) + "\"";
    if (filename)
      head += "; filename=\"" + disposition_escaped(*filename, backslash_escapes) + "\"";
    head += "\r\n";
  }
  if (type) head += "Content-Type: " + *type + "\r\n";
  for (const auto& h : part.headers) head += h + "\r\n";
  return head;
}

inline std::string random_boundary() {
  constexpr std::string_view alphabet =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::random_device random;
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::string boundary(24, '-');
  for (int i = 0; i < 22; ++i) boundary += alphabet[pick(random)];
  return boundary;
}

}  // namespace detail

// A part as it is sent: its head's words, and its content (the text, stdin's bytes, a
// file and its size, or for several files the parts of a multipart/mixed body).
struct form::part {
  detail::form_part spec;
  std::optional<std::string> filename;
  std::string bytes;
  std::uint64_t file_size = 0;
  std::vector<part> inner;
  std::string inner_boundary;
};

inline std::optional<form> form::make(const std::vector<form_spec>& specs, bool backslash_escapes,
                                      std::vector<std::string>& warnings, std::string& error,
                                      int& error_code) {
  std::vector<detail::form_part> read;
  error_code = 2;
  for (const auto& spec : specs)
    if (!detail::read_form_part(spec, read, warnings, error)) return std::nullopt;
  form f;
  f.boundary_ = detail::random_boundary();
  f.backslash_escapes_ = backslash_escapes;
  bool stdin_read = false;  // stdin ends after the first part that reads it
  const auto load = [&](detail::form_part& spec, part& p) {
    p.filename = spec.filename;
    switch (spec.how) {
      case detail::form_part::kind::text:
        p.bytes = spec.data;
        break;
      case detail::form_part::kind::file:
      case detail::form_part::kind::file_data: {
        if (!p.filename && spec.how == detail::form_part::kind::file)
          p.filename = std::filesystem::path(spec.data).filename().string();
        std::error_code ec;
        p.file_size = std::filesystem::file_size(spec.data, ec);
        if (ec || !std::ifstream(spec.data, std::ios::binary)) {
          error = "Failed to open/read local data from file/application";
          error_code = 26;
          return false;
        }
        break;
      }
      case detail::form_part::kind::stdin_file:
      case detail::form_part::kind::stdin_data:
        if (!p.filename && spec.how == detail::form_part::kind::stdin_file) p.filename = "-";
        if (!stdin_read)
          p.bytes.assign(std::istreambuf_iterator<char>(std::cin),
                         std::istreambuf_iterator<char>());
        stdin_read = true;
        break;
      case detail::form_part::kind::files:
        break;
    }
    return true;
  };
  for (auto& spec : read) {
    part p;
    if (!load(spec, p)) return std::nullopt;
    if (spec.how == detail::form_part::kind::files) {
      p.inner_boundary = detail::random_boundary();
      spec.type = "multipart/mixed; boundary=" + p.inner_boundary;
      for (auto& file : spec.files) {
        part& in = p.inner.emplace_back();
        if (!load(file, in)) return std::nullopt;
        in.spec = std::move(file);
      }
      spec.files.clear();
    }
    p.spec = std::move(spec);
    f.parts_.push_back(std::move(p));
  }
  return f;
}

// A part's head and content, after its delimiter line; several files as a multipart
// body of their own, each an attachment.
inline void form::add_part(const part& p, bool form_data) {
  add_bytes(detail::part_head(p.spec, p.filename, form_data, backslash_escapes_) + "\r\n");
  const auto how = p.spec.how;
  if (how == detail::form_part::kind::file || how == detail::form_part::kind::file_data) {
    add_file(p.spec.data, p.file_size);
  } else if (how == detail::form_part::kind::files) {
    for (const auto& in : p.inner) {
      add_bytes((&in == &p.inner.front() ? "--" : "\r\n--") + p.inner_boundary + "\r\n");
      add_part(in, false);
    }
    add_bytes("\r\n--" + p.inner_boundary + "--\r\n");
  } else {
    add_bytes(p.bytes);
  }
}

inline void form::frame(std::string_view type) {
  pieces_.clear();
  size_ = 0;
  const bool form_data = detail::type_is(type, "multipart/form-data");
  for (const auto& p : parts_) {
    add_bytes((&p == &parts_.front() ? "--" : "\r\n--") + boundary_ + "\r\n");
    add_part(p, form_data);
  }
  add_bytes((parts_.empty() ? "--" : "\r\n--") + boundary_ + "--\r\n");
}

inline opensock::http::request_body form::body() const {
  struct cursor {
    std::shared_ptr<const std::vector<piece>> pieces;
    std::size_t index = 0;
    std::uint64_t offset = 0;  // into pieces[index]
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file{nullptr, &std::fclose};
  };
  auto at = std::make_shared<cursor>();
  at->pieces = std::make_shared<const std::vector<piece>>(pieces_);
  auto produce = [at](asio::mutable_buffer room) -> asio::awaitable<std::size_t> {
    auto* out = static_cast<char*>(room.data());
    std::size_t filled = 0;
    while (filled < room.size() && at->index < at->pieces->size()) {
      const piece& p = (*at->pieces)[at->index];
      const auto want = static_cast<std::size_t>(
          std::min<std::uint64_t>(p.size - at->offset, room.size() - filled));
      std::size_t got = want;
      if (p.file.empty()) {
        std::memcpy(out + filled, p.bytes.data() + at->offset, want);
      } else {
        if (!at->file) at->file.reset(std::fopen(p.file.c_str(), "rb"));
        // A file that cannot be read now, or shrank, ends the body short: the session
        // fails the request with read_error (26).
        got = at->file ? std::fread(out + filled, 1, want, at->file.get()) : 0;
        if (got == 0 && want != 0) co_return filled;
      }
      filled += got;
      at->offset += got;
      if (at->offset == p.size) {
        at->file.reset();
        ++at->index;
        at->offset = 0;
      }
    }
    co_return filled;
  };
  return opensock::http::request_body::producer(std::move(produce), size_);
}

}  // namespace fetch
