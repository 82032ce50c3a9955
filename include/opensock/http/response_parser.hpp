// An incremental HTTP/1.x response parser: fed any split of the bytes a server sends, it
// reads the status line and headers within explicit limits, skips 1xx interim responses
// (kept for the caller), and delivers the body by Content-Length, chunked coding (with
// trailers) or until the connection closes, as views into the caller's buffer.
#pragma once

#include <opensock/detail/same_text.hpp>
#include <opensock/error.hpp>
#include <opensock/http/fields.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace opensock::http {

namespace detail {
enum class length_reading;  // what a Content-Length value says
}  // namespace detail

struct parser_limits {
  /// One status, header or trailer line (curl: 100 KiB).
  std::size_t max_line = 100 * 1024;
  /// The status line and headers together, interim responses included (curl: 300 KiB).
  std::size_t max_header_bytes = 300 * 1024;
  /// Header fields in one response (curl: 5000).
  std::size_t max_header_count = 5000;
  /// Body bytes; none by default (curl's --max-filesize).
  std::optional<std::uint64_t> max_body;
};

/// A 1xx response that came before the final one.
struct interim_response {
  int status = 0;
  fields headers;
};

enum class body_framing {
  none,         ///< HEAD, 1xx, 204, 304: no body whatever the headers say
  length,       ///< Content-Length
  chunked,      ///< Transfer-Encoding ending in chunked
  until_close,  ///< neither: the body ends when the server closes
};

class response_parser {
 public:
  explicit response_parser(parser_limits limits = {}) : limits_(limits) {}

  /// The limits of the responses parsed from now on.
  void set_limits(const parser_limits& limits) noexcept { limits_ = limits; }

  /// Whether a response that does not begin with "HTTP/" is read as HTTP/0.9 (its bytes,
  /// all of them, the body until the close; status 200, version 9), as curl's
  /// --http0.9, rather than refused with http09_not_allowed. Off by default.
  void allow_http09(bool allowed) noexcept { allow_http09_ = allowed; }

  /// Whether bodies are handed over as they came, transfer codings kept (curl's --raw):
  /// a chunked body with its chunk-size lines, line ends and trailer section, a body of
  /// another coding as it was sent. The parser still finds where each body ends. Off by
  /// default.
  void keep_transfer_codings(bool keep) noexcept { keep_transfer_codings_ = keep; }
  bool keeps_transfer_codings() const noexcept { return keep_transfer_codings_; }

  /// Whether Content-Length is passed over (curl's --ignore-content-length): a body not
  /// chunked then runs to the close, for a server that states a wrong length. Off by
  /// default.
  void ignore_content_length(bool ignore) noexcept { ignore_content_length_ = ignore; }

  /// Prepares for the responses of a new connection: a response in another version of
  /// HTTP than those before it on one connection is refused (version_changed).
  void start_connection() noexcept { connection_version_ = 0; }

  /// Prepares for the next response on the connection, keeping allocated capacity.
  /// `head_request`: the response to a HEAD request has no body.
  void start(bool head_request = false);

  /// Prepares for the answer to a CONNECT request: a 2xx answer has no body whatever its
  /// headers say (RFC 9110 §9.3.6); any other is framed as a response to GET.
  void start_connect() {
    start();
    connect_request_ = true;
  }

  /// Consumes what it can of `input`: whole lines of the header, and body bytes, which
  /// it passes to `on_body(std::string_view)` as views into `input`. Returns the bytes
  /// consumed; the caller keeps the rest and calls again once more has arrived. Stops
  /// at the end of the response: what follows belongs to the next one.
  template <class OnBody>
  std::size_t parse(std::string_view input, OnBody&& on_body) {
    return parse(input, on_body, [](std::string_view) {});
  }

  /// As above, and passes each whole line of the status line, headers and trailers, as
  /// received with its line ending, to `on_head_line(std::string_view)`.
  template <class OnBody, class OnHeadLine>
  std::size_t parse(std::string_view input, OnBody&& on_body, OnHeadLine&& on_head_line);

  /// The server closed the connection: ends a body delimited by the close, or fails with
  /// got_nothing (52) if nothing came, incomplete_header (8) inside the header,
  /// partial_file (18) inside a body of known length or chunked.
  void finish_at_eof();

  bool header_done() const noexcept { return header_done_; }
  /// Whether any byte of this response has arrived.
  bool received_anything() const noexcept { return received_any_; }
  bool done() const noexcept { return state_ == state::done; }
  std::error_code error() const noexcept { return error_; }

  int status() const noexcept { return status_; }
  /// 10, 11 or 20 for HTTP/1.0, HTTP/1.1, HTTP/2.
  int version() const noexcept { return version_; }
  std::string_view reason() const noexcept { return status_ ? reason_ : std::string_view(); }
  const fields& headers() const noexcept { return headers_; }
  const fields& trailers() const noexcept { return trailers_; }
  const std::vector<interim_response>& interim() const noexcept { return interim_; }

  /// Moves the headers, trailers and interim responses of a finished response out, by
  /// swapping: the parser keeps the storage of what they replace for the next response,
  /// so a caller that reuses one response allocates nothing, and one that does not
  /// copies nothing. The reason phrase is copied.
  void take_head(std::string& reason, fields& headers, fields& trailers,
                 std::vector<interim_response>& interim) noexcept {
    // What this response used, not the capacity of the storage: that comes from the
    // caller's response in the swap below, and reserving it again (libstdc++ at least
    // doubles a string it grows) would grow without bound over responses that alternate
    // between connections.
    last_header_bytes_ = headers_.size_bytes();
    last_header_count_ = headers_.size();
    // A reason phrase is short: copied into the caller's storage, which is cheaper than
    // swapping two strings held in place, and not even copied when the caller's is the
    // same (a reused response). Trailers are rare: nothing to swap without.
    if (!opensock::detail::same_text(reason, reason_)) reason.assign(reason_);
    headers.swap(headers_);
    if (!trailers.empty() || !trailers_.empty()) trailers.swap(trailers_);
    interim.swap(interim_);
    headers_.clear();
    trailers_.clear();
    interim_.clear();
  }

  body_framing framing() const noexcept { return framing_; }
  /// Whether the body carries a transfer coding other than chunked (Transfer-Encoding:
  /// gzip, or gzip, chunked): its bytes come as they were coded, for the caller to
  /// decode or refuse.
  bool transfer_coded() const noexcept { return transfer_coded_; }
  std::optional<std::uint64_t> content_length() const noexcept { return content_length_; }
  std::uint64_t body_bytes() const noexcept { return body_bytes_; }

  /// Body bytes of a known length still to come, which the caller may read into a place
  /// of its own and report with body_read_directly(); 0 in any other state.
  std::uint64_t direct_body_room() const noexcept {
    return state_ == state::body_length ? remaining_ : 0;
  }

  /// Counts `n` (at most direct_body_room()) body bytes that the caller read itself.
  void body_read_directly(std::size_t n) {
    if (n > remaining_ || !count_body(n)) return;
    remaining_ -= n;
    if (remaining_ == 0) state_ = state::done;
  }

  /// Whether the connection may carry another request once this response is done:
  /// HTTP/1.1 unless "Connection: close", HTTP/1.0 only with "Connection: keep-alive",
  /// never after a body delimited by the close, a 101, or Content-Length together with
  /// Transfer-Encoding (a response that could desynchronise the connection).
  bool keep_alive() const noexcept { return keep_alive_; }

 private:
  enum class state {
    status_line,
    header_line,
    body_length,
    chunk_size,
    chunk_data,
    chunk_data_end,
    trailer_line,
    body_until_close,
    done,
    failed,
  };

  // Out of line and cold: an error ends the response, and the code it takes would
  // otherwise swell the paths that every line goes through.
  [[gnu::cold, gnu::noinline]] std::size_t fail(opensock::error e) {
    error_ = e;
    state_ = state::failed;
    return 0;
  }

  // Takes one line (without CR LF or LF) from `input` at `pos`; nullopt if incomplete.
  std::optional<std::string_view> take_line(std::string_view input, std::size_t& pos);

  template <class OnBody, class OnHeadLine>
  std::size_t parse_some(std::string_view input, OnBody& on_body, OnHeadLine& on_head_line);

  bool parse_status_line(std::string_view line);
  bool parse_field_line(std::string_view line, fields& into);
  // An obs-fold line, which continues the value of the field before it.
  bool fold_line(std::string_view line, fields& into);
  // Notes the field just added to headers_ if it is one of those framing_fields_ holds.
  void note_framing_field(std::string_view name) noexcept;
  bool end_of_header();
  bool start_http09();
  bool body_to_close() noexcept;
  bool same_locations() const noexcept;
  detail::length_reading merge_content_lengths();
  // Copies the field lines parsed from this input into their fields' storage.
  void close_block();
  bool count_body(std::size_t n);

  parser_limits limits_;
  state state_ = state::status_line;
  bool head_request_ = false;
  bool connect_request_ = false;
  bool allow_http09_ = false;
  bool keep_transfer_codings_ = false;
  bool ignore_content_length_ = false;
  bool header_done_ = false;
  bool received_any_ = false;
  bool keep_alive_ = false;
  bool transfer_coded_ = false;
  std::error_code error_;
  int status_ = 0;
  int version_ = 0;
  int connection_version_ = 0;  // of the responses on this connection so far
  std::string reason_;
  fields headers_;
  fields trailers_;
  std::vector<interim_response> interim_;
  body_framing framing_ = body_framing::none;
  std::optional<std::uint64_t> content_length_;
  std::uint64_t body_bytes_ = 0;
  std::uint64_t remaining_ = 0;
  std::size_t header_bytes_ = 0;
  // Where the fields that frame the body are among headers_, noted as each field is
  // added, so that the end of the head reads these and looks at no other.
  struct framing_fields {
    static constexpr std::size_t none = static_cast<std::size_t>(-1);
    std::size_t connection = none;         // the first Connection field
    std::size_t transfer_encoding = none;  // the last Transfer-Encoding field
    std::size_t content_length = none;     // the first Content-Length field
    bool more_content_lengths = false;     // another after it
    std::size_t last_length_or_coding = none;  // the last of either (a fold may not extend it)
    bool location = false;        // a Location field
    bool more_locations = false;  // and another
  };
  framing_fields framing_fields_;
  // The size of the last headers taken, reserved for the next ones: storage a fresh
  // response brought in is grown once, not field by field.
  std::size_t last_header_bytes_ = 0;
  std::size_t last_header_count_ = 0;
  // The field lines parsed from the current input and not yet copied: into
  // *block_fields_, from block_begin_ to block_end_ (see fields::add_in_block).
  fields* block_fields_ = nullptr;
  const char* block_begin_ = nullptr;
  const char* block_end_ = nullptr;
  std::uint32_t block_base_ = 0;
};

}  // namespace opensock::http

#include <opensock/http/impl/response_parser.hpp>
