// The cookies of a session, kept and chosen as curl's cookie engine does: what a response
// sets (replacing, deleting), what a request sends and in which order, within curl's limits.
// One jar serves every request of a session, from any thread.
#pragma once

#include <opensock/http/cookie.hpp>
#include <opensock/http/fields.hpp>
#include <opensock/http/url.hpp>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace opensock::http {

/// What a request is, for the SameSite attribute. A client that is not a browser has no
/// cross-site context of its own: requests are same-site unless the caller says otherwise.
struct request_context {
  /// The request method, case-sensitive; empty means GET.
  std::string_view method;
  /// The request is made for a site other than the target's: Strict cookies stay out, and
  /// Lax ones too unless the method is safe (GET, HEAD, OPTIONS, TRACE).
  bool cross_site = false;

  request_context() = default;
  request_context(std::string_view method, bool cross_site = false)
      : method(method), cross_site(cross_site) {}
};

class cookie_jar {
 public:
  using clock = cookie_clock;

  explicit cookie_jar(cookie_limits limits = {}) : limits_(limits) {}
  cookie_jar(const cookie_jar&) = delete;
  cookie_jar& operator=(const cookie_jar&) = delete;

  /// Stores the cookies of every Set-Cookie field of a response from `from`, in order, up
  /// to limits().max_set_cookie_per_response cookies taken (ignored ones do not count).
  /// Returns how many were taken.
  std::size_t store(const url& from, const fields& response_headers,
                    clock::time_point now = clock::now());

  /// Stores the cookie of one Set-Cookie value: parse_set_cookie(), then the replacement
  /// of the cookie of the same name, domain and path, unless that one is Secure and this
  /// one comes from an insecure origin. An expired cookie deletes the one it replaces.
  /// Returns whether the cookie was taken.
  bool store(const url& from, std::string_view set_cookie, clock::time_point now = clock::now());

  /// Adds a cookie read from a file, as curl loads one: its creation order is the jar's
  /// next, it does not replace one a server set, and it is refused when its name or value
  /// holds control bytes, its prefix's rules do not hold, or it is a domain cookie for a
  /// public suffix. Returns whether it was added.
  bool insert(cookie c);

  /// The value of the Cookie field for a request to `to` ("a=1; b=2"), empty when no
  /// cookie matches: curl's order (longer path, then longer domain, then longer name,
  /// then the newer first), at most limits().max_sent cookies, and the line kept under
  /// limits().max_header. Secure cookies go over https and wss, and to localhost,
  /// 127.0.0.1 and ::1.
  std::string header_for(const url& to, request_context context = {},
                         clock::time_point now = clock::now());

  /// Removes the cookies without an expiry (curl's -j, --junk-session-cookies).
  void remove_session_cookies();
  /// Removes the cookies expired at `now`.
  void remove_expired(clock::time_point now = clock::now());
  /// Removes every cookie.
  void clear();

  /// A copy of the cookies, in the order a cookie file lists them: the newest first.
  std::vector<cookie> cookies() const;
  std::size_t size() const;
  bool empty() const;
  const cookie_limits& limits() const noexcept { return limits_; }

 private:
  struct entry {
    cookie c;
    bool live;  // set by a server rather than read from a file
  };

  // `now` unset: a cookie from a file, which curl adds without expiring any.
  bool add(cookie c, bool live, bool secure_origin, std::optional<clock::time_point> now);
  void remove_expired_locked(clock::time_point now);

  const cookie_limits limits_;
  mutable std::mutex mutex_;
  // In curl's list order: a cookie goes to the end when added or replaced, and the
  // Cookie header's cap on the number of cookies takes them in this order.
  std::vector<entry> entries_;
  std::uint64_t last_order_ = 0;
};

}  // namespace opensock::http

#include <opensock/http/impl/cookie_jar.hpp>
