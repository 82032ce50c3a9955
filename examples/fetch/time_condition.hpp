// -z/--time-cond: a request made on the condition that the document changed after a time
// (If-Modified-Since), or did not ('-': If-Unmodified-Since), the time given as a date
// or as a file whose modification time it is. Dates are read the way curl_getdate()
// reads them: words and numbers in any order (weekday, month, day, year, hh:mm[:ss],
// a time zone name or +hhmm/-hhmm, yyyymmdd), so "Sun, 06 Nov 1994 08:49:37 GMT",
// "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994" and "19941106" all work.
// A response whose Last-Modified fails the condition has its body left unwritten and
// counts as a 304, as curl simulates one.
#pragma once

#include <sys/stat.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <opensock/http/fields.hpp>

#include <fmt/core.h>

namespace fetch {

namespace detail {

constexpr std::array<std::string_view, 12> month_names = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> day_names = {"Mon", "Tue", "Wed", "Thu",
                                                       "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> full_day_names = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

// The time zones curl's date reader knows: their offsets west of GMT, in minutes (the
// daylight ones an hour less).
inline std::optional<int> zone_minutes_west(std::string_view name) {
  struct zone {
    std::string_view name;
    int west;
  };
  static constexpr zone zones[] = {
      {"GMT", 0},     {"UT", 0},      {"UTC", 0},     {"WET", 0},      {"BST", -60},
      {"WAT", 60},    {"AST", 240},   {"ADT", 180},   {"EST", 300},    {"EDT", 240},
      {"CST", 360},   {"CDT", 300},   {"MST", 420},   {"MDT", 360},    {"PST", 480},
      {"PDT", 420},   {"YST", 540},   {"YDT", 480},   {"HST", 600},    {"HDT", 540},
      {"CAT", 600},   {"AHST", 600},  {"NT", 660},    {"IDLW", 720},   {"CET", -60},
      {"MET", -60},   {"MEWT", -60},  {"MEST", -120}, {"MESZ", -120},  {"CEST", -120},
      {"FWT", -60},   {"FST", -120},  {"EET", -120},  {"WAST", -420},  {"WADT", -480},
      {"CCT", -480},  {"JST", -540},  {"EAST", -600}, {"EADT", -660},  {"GST", -600},
      {"NZT", -720},  {"NZST", -720}, {"NZDT", -780}, {"IDLE", -720}};
  for (const auto& z : zones)
    if (opensock::http::iequals(name, z.name)) return z.west;
  // Military zones: one letter, A to M east (J unused), N to Y west, Z for GMT.
  if (name.size() == 1) {
    const char c = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
    if (c == 'Z') return 0;
    if (c >= 'A' && c <= 'I') return -(c - 'A' + 1) * 60;
    if (c >= 'K' && c <= 'M') return -(c - 'A') * 60;
    if (c >= 'N' && c <= 'Y') return (c - 'N' + 1) * 60;
  }
  return std::nullopt;
}

// Seconds since 1970 of a date in GMT (days from the civil calendar).
inline std::int64_t epoch_seconds(int year, int month0, int day, int hour, int minute,
                                  int second) {
  const int y = year - (month0 < 2 ? 1 : 0);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int year_of_era = y - era * 400;
  const int m = month0 + 1;
  const int day_of_year = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  const std::int64_t days = static_cast<std::int64_t>(era) * 146097 + day_of_era - 719468;
  return ((days * 24 + hour) * 60 + minute) * 60 + second;
}

}  // namespace detail

/// A date as curl_getdate() reads one, in seconds since 1970; nullopt if it is none.
inline std::optional<std::int64_t> parse_date(std::string_view text) {
  int weekday = -1, month = -1, day = -1, year = -1, hour = -1, minute = 0, second = 0;
  std::optional<int> zone_west_seconds;
  bool year_next = false;  // a number read after the day is the year, and the other way
  std::size_t at = 0;
  for (int part = 0; part < 6 && at < text.size(); ++part) {
    while (at < text.size() && !std::isalnum(static_cast<unsigned char>(text[at]))) ++at;
    if (at == text.size()) break;
    const std::size_t from = at;
    if (std::isalpha(static_cast<unsigned char>(text[at]))) {
      while (at < text.size() && std::isalpha(static_cast<unsigned char>(text[at]))) ++at;
      const std::string_view word = text.substr(from, at - from);
      bool known = false;
      if (weekday < 0) {
        const auto& names = word.size() > 3 ? detail::full_day_names : detail::day_names;
        for (std::size_t i = 0; i < names.size() && !known; ++i)
          if (opensock::http::iequals(word, names[i])) weekday = static_cast<int>(i), known = true;
      }
      if (!known && month < 0 && word.size() == 3) {
        for (std::size_t i = 0; i < 12 && !known; ++i)
          if (opensock::http::iequals(word, detail::month_names[i]))
            month = static_cast<int>(i), known = true;
      }
      if (!known && !zone_west_seconds && word.size() <= 4) {
        if (const auto west = detail::zone_minutes_west(word)) {
          zone_west_seconds = *west * 60;
          known = true;
        }
      }
      if (!known) return std::nullopt;
      continue;
    }
    // hh:mm[:ss], one or two digits each.
    const auto two_digits = [&](std::size_t& i) {
      int n = text[i++] - '0';
      if (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])))
        n = n * 10 + (text[i++] - '0');
      return n;
    };
    if (hour < 0) {
      std::size_t i = at;
      const int h = two_digits(i);
      if (h < 24 && i + 1 < text.size() && text[i] == ':' &&
          std::isdigit(static_cast<unsigned char>(text[i + 1]))) {
        ++i;
        const int m = two_digits(i);
        int s = 0;
        bool valid = m < 60;
        if (valid && i + 1 < text.size() && text[i] == ':' &&
            std::isdigit(static_cast<unsigned char>(text[i + 1]))) {
          ++i;
          s = two_digits(i);
          valid = s <= 60;
        }
        if (valid) {
          hour = h, minute = m, second = s;
          at = i;
          continue;
        }
      }
    }
    std::int64_t value = 0;
    while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) {
      if (at - from >= 8) return std::nullopt;  // more digits than any field has
      value = value * 10 + (text[at++] - '0');
    }
    const std::size_t digits = at - from;
    const char before = from > 0 ? text[from - 1] : '\0';
    if (!zone_west_seconds && digits == 4 && value <= 1400 && (before == '+' || before == '-')) {
      // +hhmm is east of GMT: the offset west is its negative.
      const int offset = static_cast<int>((value / 100 * 60 + value % 100) * 60);
      zone_west_seconds = before == '+' ? -offset : offset;
    } else if (digits == 8 && year < 0 && month < 0 && day < 0) {
      year = static_cast<int>(value / 10000);
      month = static_cast<int>(value % 10000 / 100) - 1;
      day = static_cast<int>(value % 100);
    } else {
      // The day first (when it can be one), then the year, then the day again.
      bool taken = false;
      if (!year_next && day < 0) {
        if (value > 0 && value < 32) {
          day = static_cast<int>(value);
          taken = true;
        }
        year_next = true;
      }
      if (!taken && year_next && year < 0) {
        year = static_cast<int>(value);
        if (year < 100) year += year > 70 ? 1900 : 2000;
        taken = true;
        if (day < 0) year_next = false;
      }
      if (!taken) return std::nullopt;
    }
  }
  if (hour < 0) hour = minute = second = 0;
  if (day < 0 || month < 0 || year < 0 || year < 1583 || day > 31 || month > 11)
    return std::nullopt;
  return detail::epoch_seconds(year, month, day, hour, minute, second) +
         zone_west_seconds.value_or(0);
}

/// `t` as an HTTP date: "Sun, 06 Nov 1994 08:49:37 GMT".
inline std::string http_date(std::int64_t t) {
  const auto seconds = static_cast<std::time_t>(t);
  std::tm gmt{};
  ::gmtime_r(&seconds, &gmt);
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
                     detail::day_names[static_cast<std::size_t>((gmt.tm_wday + 6) % 7)],
                     gmt.tm_mday, detail::month_names[static_cast<std::size_t>(gmt.tm_mon)],
                     gmt.tm_year + 1900, gmt.tm_hour, gmt.tm_min, gmt.tm_sec);
}

struct time_condition {
  enum class kind { modified_since, unmodified_since, last_modified };
  kind how = kind::modified_since;
  std::int64_t time = 0;

  /// The request field curl sends for it.
  std::string_view field() const {
    return how == kind::unmodified_since ? "If-Unmodified-Since"
           : how == kind::last_modified  ? "Last-Modified"
                                          : "If-Modified-Since";
  }

  /// Whether a document last modified at `document` (its Last-Modified read as a date;
  /// none, or -1 for one that is not a date) meets the condition; a document of no
  /// known time meets it.
  bool met_by(std::optional<std::int64_t> document) const {
    if (!document || *document == 0 || time == 0) return true;
    return how == kind::unmodified_since ? *document < time : *document > time;
  }
};

/// -z's value: '+' (or nothing), '-' or '=' first, then a date or a file's name. nullopt
/// with a warning, as curl, when it is neither.
inline std::optional<time_condition> read_time_condition(std::string_view value,
                                                         std::vector<std::string>& warnings) {
  time_condition c;
  if (!value.empty() && (value.front() == '+' || value.front() == '-' || value.front() == '=')) {
    c.how = value.front() == '-'   ? time_condition::kind::unmodified_since
            : value.front() == '=' ? time_condition::kind::last_modified
                                   : time_condition::kind::modified_since;
    value.remove_prefix(1);
  }
  if (const auto date = parse_date(value)) {
    c.time = *date;
    return c;
  }
  struct stat file {};
  if (::stat(std::string(value).c_str(), &file) == 0) {
    c.time = file.st_mtime;
    return c;
  }
  warnings.emplace_back(
      "Illegal date format for -z, --time-cond (and not a file name). Disabling time "
      "condition. See curl_getdate(3) for valid date syntax.");
  return std::nullopt;
}

}  // namespace fetch
