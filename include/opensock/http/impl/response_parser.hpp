// Definitions for opensock/http/response_parser.hpp.
#pragma once

#include <opensock/http/response_parser.hpp>

#include <cstring>
#include <limits>

namespace opensock::http {
namespace detail {

inline bool is_blank(char c) noexcept { return c == ' ' || c == '\t'; }

// Whether `s` begins with the literal `prefix`: a compare of a few bytes in place, where
// string_view::starts_with is often left a call.
template <std::size_t N>
bool begins_with(std::string_view s, const char (&prefix)[N]) noexcept {
  return s.size() >= N - 1 && std::memcmp(s.data(), prefix, N - 1) == 0;
}

enum class length_reading { valid, invalid, too_large };

// Takes a Content-Length field's value into `length`: a comma-separated list of decimal
// numbers, each with optional blanks around it, no sign, and every one (in every such
// field) the same. Invalid when one is not; too_large, when it is a number past 2^63 - 1
// (one curl does not take for a length). One pass over the value: this runs for every
// response.
inline length_reading merge_content_length(std::string_view list,
                                           std::optional<std::uint64_t>& length) {
  constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  const auto blank = [](char c) { return c == ' ' || c == '\t'; };
  const char* p = list.data();
  const char* const end = p + list.size();
  for (;;) {
    while (p != end && blank(*p)) ++p;
    std::uint64_t value = 0;
    bool too_large = false;
    const char* const digits = p;
    for (; p != end && static_cast<unsigned>(*p - '0') < 10; ++p) {
      const auto digit = static_cast<std::uint64_t>(*p - '0');
      too_large = too_large || value > max / 10 || (value == max / 10 && digit > max % 10);
      if (!too_large) value = value * 10 + digit;
    }
    if (p == digits) return length_reading::invalid;
    while (p != end && blank(*p)) ++p;
    if (too_large)
      return p == end || *p == ',' ? length_reading::too_large : length_reading::invalid;
    if (length && *length != value) return length_reading::invalid;
    length = value;
    if (p == end) return length_reading::valid;
    if (*p++ != ',') return length_reading::invalid;
  }
}

// A field name known in advance, in lower case and of eight bytes or more, to compare
// received names of its length with, without regard to ASCII case. Each word of a
// received name, with 0x20 set on the bytes where the known name has a letter, must
// equal the known name's word: setting 0x20 maps 'A'-'Z' onto 'a'-'z' and no other byte
// onto a lower-case letter, and a byte that faces no letter is compared as it is. Three
// operations a word, where folding a word as iequals_lower() does takes about a dozen.
template <std::size_t N>
struct known_name {
  static constexpr std::size_t size = N - 1;
  static_assert(size >= 8);
  char text[size];
  char case_bits[size];

  consteval known_name(const char (&lower)[N]) : text(), case_bits() {
    for (std::size_t i = 0; i < size; ++i) {
      text[i] = lower[i];
      case_bits[i] = lower[i] >= 'a' && lower[i] <= 'z' ? 0x20 : 0;
    }
  }

  // Whether `name`, of `size` bytes, is this name; words from both ends, the last one
  // overlapping the one before it.
  bool matches(const char* name) const noexcept {
    for (std::size_t i = 0; i + 8 < size; i += 8)
      if ((load8(name + i) | load8(case_bits + i)) != load8(text + i)) return false;
    return (load8(name + size - 8) | load8(case_bits + size - 8)) == load8(text + size - 8);
  }
};

inline constexpr known_name connection_name("connection");
inline constexpr known_name content_length_name("content-length");
inline constexpr known_name transfer_encoding_name("transfer-encoding");
inline constexpr known_name location_name("location");

inline std::optional<std::uint64_t> parse_chunk_size(std::string_view line) noexcept {
  // chunk-size [ chunk-ext ]; extensions and whitespace before them are ignored.
  std::size_t i = 0;
  std::uint64_t size = 0;
  for (; i < line.size(); ++i) {
    const char c = line[i];
    int digit;
    if (c >= '0' && c <= '9') digit = c - '0';
    else if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    else break;
    if (size > (std::numeric_limits<std::uint64_t>::max() >> 5)) return std::nullopt;  // overflow
    size = size * 16 + static_cast<std::uint64_t>(digit);
  }
  if (i == 0) return std::nullopt;
  const std::string_view rest = trim_ows(line.substr(i));
  if (!rest.empty() && rest.front() != ';') return std::nullopt;
  return size;
}

}  // namespace detail

inline void response_parser::start(bool head_request) {
  state_ = state::status_line;
  head_request_ = head_request;
  connect_request_ = false;
  header_done_ = false;
  received_any_ = false;
  keep_alive_ = false;
  transfer_coded_ = false;
  error_.clear();
  status_ = 0;
  version_ = 0;
  // reason_ is kept: the next status line most often has the same phrase, and then
  // leaves it as it is.
  block_fields_ = nullptr;
  framing_fields_ = {};
  headers_.clear();
  headers_.reserve(last_header_bytes_, last_header_count_);
  trailers_.clear();
  interim_.clear();
  framing_ = body_framing::none;
  content_length_.reset();
  body_bytes_ = 0;
  remaining_ = 0;
  header_bytes_ = 0;
}

inline std::optional<std::string_view> response_parser::take_line(std::string_view input,
                                                                  std::size_t& pos) {
  // Pointers rather than substr(): this runs for every line of every response.
  const char* const begin = input.data() + pos;
  const std::size_t left = input.size() - pos;
  const auto* found = static_cast<const char*>(std::memchr(begin, '\n', left));
  const std::size_t length = found ? static_cast<std::size_t>(found - begin) : left;
  if (length > limits_.max_line) {
    fail(opensock::error::header_line_too_long);
    return std::nullopt;
  }
  if (!found) return std::nullopt;
  pos += length + 1;
  const bool cr = length > 0 && begin[length - 1] == '\r';
  return std::string_view(begin, length - (cr ? 1 : 0));
}

inline bool response_parser::parse_status_line(std::string_view line) {
  // HTTP-version SP status-code [ SP reason-phrase ], as curl reads it.
  if (!detail::begins_with(line, "HTTP/")) {
    // After an interim response, or another on the connection, HTTP/0.9 is no longer a
    // reading of it.
    fail(!interim_.empty()          ? opensock::error::not_http_after_interim
         : connection_version_ != 0 ? opensock::error::version_changed
                                    : opensock::error::http09_not_allowed);
    return false;
  }
  std::string_view rest = line;
  rest.remove_prefix(5);
  if (detail::begins_with(rest, "1.1")) {
    version_ = 11;
    rest.remove_prefix(3);
  } else if (detail::begins_with(rest, "1.0")) {
    version_ = 10;
    rest.remove_prefix(3);
  } else if (rest.starts_with('2') && (rest.size() == 1 || rest[1] == ' ')) {
    version_ = 20;
    rest.remove_prefix(1);
  } else {
    fail(opensock::error::unsupported_http_version);
    return false;
  }
  if (rest.empty() || rest.front() != ' ') {
    fail(opensock::error::unsupported_http_version);
    return false;
  }
  // A connection speaks one version of HTTP: 1.0 and 1.1 are the same one.
  if (connection_version_ != 0 && connection_version_ / 10 != version_ / 10) {
    fail(opensock::error::version_changed);
    return false;
  }
  connection_version_ = version_;
  rest.remove_prefix(1);
  const bool three_digits = rest.size() >= 3 && rest[0] >= '1' && rest[0] <= '9' &&
                            rest[1] >= '0' && rest[1] <= '9' && rest[2] >= '0' && rest[2] <= '9' &&
                            (rest.size() == 3 || rest[3] == ' ');
  if (!three_digits) {
    fail(opensock::error::unsupported_status_code);
    return false;
  }
  status_ = (rest[0] - '0') * 100 + (rest[1] - '0') * 10 + (rest[2] - '0');
  // Usually the phrase the last response on the connection had: then nothing to copy.
  const std::string_view reason =
      rest.size() > 4 ? std::string_view(rest.data() + 4, rest.size() - 4) : std::string_view();
  if (!opensock::detail::same_text(reason, reason_)) reason_.assign(reason);
  return true;
}

inline bool response_parser::parse_field_line(std::string_view line, fields& into) {
  const char* const begin = line.data();
  const char* const end = begin + line.size();
  if (detail::is_blank(*begin)) return fold_line(line, into);
  const auto* colon = static_cast<const char*>(std::memchr(begin, ':', line.size()));
  if (!colon || colon == begin) {
    fail(opensock::error::malformed_header);
    return false;
  }
  if (into.size() >= limits_.max_header_count) {
    fail(opensock::error::too_many_response_headers);
    return false;
  }
  // The name without the blanks before the colon (it does not start with one), the
  // value without those around it.
  const char* name_end = colon;
  while (detail::is_blank(name_end[-1])) --name_end;
  const char* value = colon + 1;
  while (value != end && detail::is_blank(*value)) ++value;
  const char* value_end = end;
  if (value != end) {
    while (detail::is_blank(value_end[-1])) --value_end;  // stops at *value at the latest
  }
  const std::string_view name(begin, static_cast<std::size_t>(name_end - begin));
  if (block_fields_ != &into) {
    close_block();
    block_fields_ = &into;
    block_begin_ = begin;
    block_base_ = into.block_base();
  }
  into.add_in_block(block_base_, block_begin_, name,
                    std::string_view(value, static_cast<std::size_t>(value_end - value)));
  block_end_ = end;
  if (&into == &headers_) note_framing_field(name);
  return true;
}

inline void response_parser::note_framing_field(std::string_view name) noexcept {
  // Told by the name's length first: most names have none of these lengths.
  auto& found = framing_fields_;
  const auto just_added = [this] { return headers_.size() - 1; };
  switch (name.size()) {
    case detail::connection_name.size:
      if (found.connection == framing_fields::none && detail::connection_name.matches(name.data()))
        found.connection = just_added();
      break;
    case detail::content_length_name.size:
      if (detail::content_length_name.matches(name.data())) {
        if (found.content_length == framing_fields::none) {
          found.content_length = just_added();
        } else {
          found.more_content_lengths = true;
        }
        found.last_length_or_coding = just_added();
      }
      break;
    case detail::transfer_encoding_name.size:
      if (detail::transfer_encoding_name.matches(name.data())) {
        found.transfer_encoding = just_added();
        found.last_length_or_coding = just_added();
      }
      break;
    case detail::location_name.size:
      if (detail::location_name.matches(name.data())) {
        found.more_locations = found.location;
        found.location = true;
      }
      break;
    default:
      break;
  }
}

// Out of line, as folded lines are rare (obsolete since RFC 7230).
[[gnu::noinline]] inline bool response_parser::fold_line(std::string_view line, fields& into) {
  // obs-fold: the line continues the previous field's value, joined by one space.
  if (into.empty()) {
    fail(opensock::error::malformed_header);
    return false;
  }
  if (&into == &headers_ && framing_fields_.last_length_or_coding == headers_.size() - 1) {
    fail(opensock::error::folded_framing_field);
    return false;
  }
  const std::string_view more = detail::trim_ows(line);
  close_block();  // the value it extends must be in place
  if (!more.empty()) {
    if (!into.last_value().empty()) into.append_to_last_value(" ");
    into.append_to_last_value(more);
  }
  return true;
}

inline void response_parser::close_block() {
  if (!block_fields_) return;
  block_fields_->close_block({block_begin_, static_cast<std::size_t>(block_end_ - block_begin_)});
  block_fields_ = nullptr;
}

// Whether the Location fields of the head all say the same, as curl lets them.
inline bool response_parser::same_locations() const noexcept {
  std::optional<std::string_view> first;
  for (const auto& f : headers_) {
    if (!detail::iequals_lower(f.name, "location")) continue;
    if (!first) first = f.value;
    if (f.value != *first) return false;
  }
  return true;
}

// An HTTP/0.9 response: no head, its bytes the body until the close.
inline bool response_parser::start_http09() {
  if (head_request_ || connect_request_) {
    fail(opensock::error::http09_without_body);
    return false;
  }
  status_ = 200;
  version_ = 9;
  header_done_ = true;
  return body_to_close();
}

// The body runs to the close of the connection, which then carries no other response.
inline bool response_parser::body_to_close() noexcept {
  framing_ = body_framing::until_close;
  state_ = state::body_until_close;
  keep_alive_ = false;
  return true;
}

inline bool response_parser::end_of_header() {
  if (status_ >= 100 && status_ < 200 && status_ != 101) {
    interim_.push_back({status_, headers_});
    headers_.clear();
    framing_fields_ = {};
    state_ = state::status_line;
    return true;
  }
  header_done_ = true;
  // The fields the framing depends on were noted as they were added; their values are
  // read now that any folded lines have joined them.
  const auto& found = framing_fields_;
  if (found.more_locations && !same_locations()) [[unlikely]] {
    fail(opensock::error::repeated_location);
    return false;
  }
  const auto value_of = [this](std::size_t index) {
    return headers_.begin()[static_cast<std::ptrdiff_t>(index)].value;
  };
  const bool has_connection = found.connection != framing_fields::none;
  keep_alive_ = version_ == 10
                    ? has_connection && has_token(value_of(found.connection), "keep-alive")
                    : !(has_connection && has_token(value_of(found.connection), "close"));

  const bool no_body = head_request_ || status_ == 204 || status_ == 304 ||
                       (status_ >= 100 && status_ < 200) ||
                       (connect_request_ && status_ >= 200 && status_ < 300);
  const bool has_content_length = found.content_length != framing_fields::none;
  if (status_ == 101) keep_alive_ = false;  // the connection now speaks another protocol
  if (no_body) {
    framing_ = body_framing::none;
    state_ = state::done;
    return true;
  }
  // The final coding decides: chunked is read as such, anything else until close.
  // chunked anywhere else is refused, as curl refuses it: a peer that sends it means a
  // framing that no reading of the body can be sure of. As curl reads them, "identity"
  // names no coding before chunked (after it, it is a coding after chunked), and chunked
  // repeated right after itself is chunked once.
  bool chunked = false;
  bool coded = false;  // a coding other than chunked named
  if (found.transfer_encoding != framing_fields::none) {
    for (const auto& f : headers_) {
      if (f.name.size() != detail::transfer_encoding_name.size ||
          !detail::transfer_encoding_name.matches(f.name.data()))
        continue;
      for (std::string_view list = f.value; !list.empty();) {
        const auto comma = list.find(',');
        const std::string_view coding = detail::trim_ows(list.substr(0, comma));
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
        if (coding.empty() || (!chunked && detail::iequals_lower(coding, "identity"))) continue;
        const bool is_chunked = detail::iequals_lower(coding, "chunked");
        if (chunked && is_chunked) continue;
        if (chunked) {
          fail(opensock::error::chunked_not_last);
          return false;
        }
        chunked = is_chunked;
        coded = coded || !chunked;
      }
    }
    // Content-Length beside Transfer-Encoding leaves the connection unused after this
    // response: the two framings disagreeing is how responses get smuggled.
    if (has_content_length) keep_alive_ = false;
  }
  transfer_coded_ = coded;
  if (chunked) {
    framing_ = body_framing::chunked;
    state_ = state::chunk_size;
    return true;
  }
  // Another coding last runs to the close, but for a body kept as it came, which curl
  // takes by its Content-Length when there is one.
  if (coded && !(keep_transfer_codings_ && has_content_length)) {
    return body_to_close();
  }
  if (!has_content_length || ignore_content_length_) {
    return body_to_close();
  }
  switch (merge_content_lengths()) {
    case detail::length_reading::valid:
      break;
    case detail::length_reading::invalid:
      fail(opensock::error::bad_content_length);
      return false;
    case detail::length_reading::too_large:
      // Too large to be a length, as curl reads it: no length at all, the body running
      // to the close; under a body limit, over it.
      if (limits_.max_body) {
        fail(opensock::error::body_too_large);
        return false;
      }
      return body_to_close();
  }
  if (limits_.max_body && *content_length_ > *limits_.max_body) {
    fail(opensock::error::body_too_large);
    return false;
  }
  framing_ = body_framing::length;
  remaining_ = *content_length_;
  state_ = remaining_ == 0 ? state::done : state::body_length;
  return true;
}

// Takes every Content-Length field into content_length_, in order, up to the first that
// is not a valid length or disagrees with those before it.
inline detail::length_reading response_parser::merge_content_lengths() {
  auto field = headers_.begin() + static_cast<std::ptrdiff_t>(framing_fields_.content_length);
  auto reading = detail::merge_content_length(field->value, content_length_);
  if (reading != detail::length_reading::valid || !framing_fields_.more_content_lengths)
    return reading;
  for (++field; field != headers_.end(); ++field) {
    if (field->name.size() == detail::content_length_name.size &&
        detail::content_length_name.matches(field->name.data())) {
      reading = detail::merge_content_length(field->value, content_length_);
      if (reading != detail::length_reading::valid) return reading;
    }
  }
  return reading;
}

inline bool response_parser::count_body(std::size_t n) {
  body_bytes_ += n;
  if (limits_.max_body && body_bytes_ > *limits_.max_body) {
    fail(opensock::error::body_too_large);
    return false;
  }
  return true;
}

template <class OnBody, class OnHeadLine>
std::size_t response_parser::parse(std::string_view input, OnBody&& on_body,
                                   OnHeadLine&& on_head_line) {
  const std::size_t used = parse_some(input, on_body, on_head_line);
  close_block();  // `input` is the caller's to move or reuse once this returns
  return used;
}

template <class OnBody, class OnHeadLine>
std::size_t response_parser::parse_some(std::string_view input, OnBody& on_body,
                                        OnHeadLine& on_head_line) {
  std::size_t pos = 0;
  if (!input.empty()) received_any_ = true;
  while (pos < input.size() || state_ == state::done) {
    switch (state_) {
      case state::status_line:
        // HTTP/0.9 is told by the first bytes of a response, which cannot begin "HTTP/".
        if (allow_http09_ && header_bytes_ == 0 && interim_.empty() && connection_version_ == 0 &&
            !std::string_view("HTTP/").starts_with(input.substr(pos, 5))) [[unlikely]] {
          if (!start_http09()) return 0;
          break;
        }
        [[fallthrough]];
      case state::header_line:
      case state::trailer_line: {
        if (state_ == state::trailer_line && keep_transfer_codings_) [[unlikely]] {
          // The trailer section, its last empty line too, is more of the body as it came.
          const std::size_t line_start = pos;
          const auto line = take_line(input, pos);
          if (!line) return state_ == state::failed ? 0 : line_start;
          if (!count_body(pos - line_start)) return 0;
          on_body(std::string_view(input.data() + line_start, pos - line_start));
          if (line->empty()) state_ = state::done;
          break;
        }
        // Line after line while the head lasts, without going round the switch. The
        // fields they go to stay the same: headers from a status line on, or trailers.
        fields& into = state_ == state::trailer_line ? trailers_ : headers_;
        do {
          const std::size_t line_start = pos;
          const auto line = take_line(input, pos);
          if (!line) return state_ == state::failed ? 0 : line_start;
          header_bytes_ += pos - line_start;
          if (header_bytes_ > limits_.max_header_bytes)
            return fail(opensock::error::response_headers_too_large);
          // A line is shown to the hook once it has been found good, as curl shows
          // none it refuses.
          const std::string_view whole(input.data() + line_start, pos - line_start);
          // A NUL would cut the line short for whoever reads it as a C string, and a
          // lone CR ends it for some readers and not others.
          if (std::memchr(line->data(), '\0', line->size()) ||
              std::memchr(line->data(), '\r', line->size()))
            return fail(opensock::error::invalid_header_byte);
          if (state_ == state::status_line) {
            if (!parse_status_line(*line)) return 0;
            state_ = state::header_line;
            on_head_line(whole);
          } else if (line->empty()) {
            on_head_line(whole);
            close_block();
            if (state_ == state::trailer_line) {
              state_ = state::done;
            } else if (!end_of_header()) {
              return 0;
            }
          } else {
            if (!parse_field_line(*line, into)) return 0;
            on_head_line(whole);
          }
        } while (pos < input.size() && (state_ == state::header_line ||
                                        state_ == state::status_line ||
                                        state_ == state::trailer_line));
        break;
      }
      case state::body_length:
      case state::chunk_data: {
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size() - pos));
        if (!count_body(n)) return 0;
        if (n > 0) on_body(std::string_view(input.data() + pos, n));
        pos += n;
        remaining_ -= n;
        if (remaining_ == 0)
          state_ = state_ == state::body_length ? state::done : state::chunk_data_end;
        break;
      }
      case state::chunk_data_end: {
        // The CR LF (or bare LF) after a chunk's data.
        const std::size_t end_start = pos;
        if (input[pos] == '\n') {
          pos += 1;
        } else if (input[pos] == '\r') {
          if (pos + 1 == input.size()) return pos;
          if (input[pos + 1] != '\n') return fail(opensock::error::malformed_chunk);
          pos += 2;
        } else {
          return fail(opensock::error::malformed_chunk);
        }
        if (keep_transfer_codings_) [[unlikely]] {
          if (!count_body(pos - end_start)) return 0;
          on_body(std::string_view(input.data() + end_start, pos - end_start));
        }
        state_ = state::chunk_size;
        break;
      }
      case state::chunk_size: {
        const std::size_t line_start = pos;
        const auto line = take_line(input, pos);
        if (!line) return state_ == state::failed ? 0 : line_start;
        const auto size = detail::parse_chunk_size(*line);
        if (!size) return fail(opensock::error::malformed_chunk);
        if (keep_transfer_codings_) [[unlikely]] {
          if (!count_body(pos - line_start)) return 0;
          on_body(std::string_view(input.data() + line_start, pos - line_start));
        }
        if (limits_.max_body && body_bytes_ + *size > *limits_.max_body)
          return fail(opensock::error::body_too_large);
        remaining_ = *size;
        state_ = remaining_ == 0 ? state::trailer_line : state::chunk_data;
        break;
      }
      case state::body_until_close: {
        const std::size_t n = input.size() - pos;
        if (!count_body(n)) return 0;
        on_body(input.substr(pos));
        pos = input.size();
        break;
      }
      case state::done:
      case state::failed:
        return pos;
    }
  }
  return pos;
}

inline void response_parser::finish_at_eof() {
  switch (state_) {
    case state::done:
    case state::failed:
      return;
    case state::body_until_close:
      state_ = state::done;
      return;
    case state::status_line:
      // No final response's status line came whole (after nothing, after interim
      // responses alone, or cut short): curl's "Empty reply from server".
      fail(opensock::error::got_nothing);
      return;
    case state::header_line:
      fail(opensock::error::incomplete_header);
      return;
    default:
      fail(opensock::error::partial_file);
      return;
  }
}

}  // namespace opensock::http
