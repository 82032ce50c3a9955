// Definitions for opensock/http/cookie_jar.hpp.
#pragma once

#include <opensock/http/cookie_jar.hpp>

#include <algorithm>
#include <chrono>
#include <iterator>

namespace opensock::http {

inline std::size_t cookie_jar::store(const url& from, const fields& response_headers,
                                     clock::time_point now) {
  std::size_t taken = 0;
  for (const auto field : response_headers) {
    if (taken >= limits_.max_set_cookie_per_response) break;
    if (iequals(field.name, "Set-Cookie") && store(from, field.value, now)) ++taken;
  }
  return taken;
}

inline bool cookie_jar::store(const url& from, std::string_view set_cookie, clock::time_point now) {
  auto parsed = parse_set_cookie(set_cookie, from, now, limits_);
  if (!parsed) return false;
  const std::lock_guard lock(mutex_);
  return add(std::move(*parsed), true, detail::cookie_secure_origin(from), now);
}

inline bool cookie_jar::insert(cookie c) {
  if (detail::invalid_cookie_octets(c.name) || detail::invalid_cookie_octets(c.value)) return false;
  if (!detail::cookie_prefixes_hold(c)) return false;
  // A host-only cookie reaches its own host only, whatever that is; a domain cookie for a
  // public suffix would reach every site under it.
  if (!c.host_only && !detail::cookie_domain_acceptable(c.domain, std::nullopt)) return false;
  const std::lock_guard lock(mutex_);
  // curl loads files without expiring anything, then expires once at the end.
  return add(std::move(c), false, true, std::nullopt);
}

inline bool cookie_jar::add(cookie c, bool live, bool secure_origin,
                            std::optional<clock::time_point> now) {
  c.creation_order = ++last_order_;
  if (c.creation_time == clock::time_point{}) c.creation_time = now ? *now : clock::now();
  if (now) remove_expired_locked(*now);

  auto replaced = entries_.end();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    const cookie& old = it->c;
    if (old.name != c.name) continue;
    // An insecure origin may not set a cookie over a Secure one of the same name whose
    // domain overlaps, when the new path starts with the old one's first segment
    // (RFC 6265bis §5.7): a Secure "/login" guards "/login/en", and "/loginhelper" too,
    // as curl's code does whatever its comment says.
    const bool overlapping = detail::cookie_tailmatch(old.domain, c.domain) ||
                             detail::cookie_tailmatch(c.domain, old.domain);
    if (overlapping && old.secure && !c.secure && !secure_origin) {
      const auto second_slash = old.path.find('/', 1);
      const std::string_view segment = std::string_view(old.path).substr(
          0, second_slash == std::string::npos ? old.path.size() : second_slash);
      if (std::string_view(c.path).starts_with(segment)) return false;
    }
    if (replaced == entries_.end() && iequals(old.domain, c.domain) &&
        old.host_only == c.host_only && old.path == c.path) {
      // A cookie from a file never replaces one a server set.
      if (!live && it->live) return false;
      replaced = it;
    }
  }
  const bool replacing = replaced != entries_.end();
  if (replacing) {
    // The replacement keeps the creation of the cookie it replaces (RFC 6265 §5.3 11.3)
    // and, as in curl, moves to the end of the list.
    c.creation_order = replaced->c.creation_order;
    c.creation_time = replaced->c.creation_time;
    entries_.erase(replaced);
  }
  // An expired cookie only deletes; curl adds it and drops it on its next look.
  if (now && c.expired(*now)) return true;
  if (!replacing && limits_.max_per_domain != 0) {
    std::size_t same_domain = 0;
    auto oldest = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (!iequals(it->c.domain, c.domain)) continue;
      ++same_domain;
      if (oldest == entries_.end() || it->c.creation_order < oldest->c.creation_order) oldest = it;
    }
    if (same_domain >= limits_.max_per_domain) entries_.erase(oldest);
  }
  entries_.push_back({std::move(c), live});
  return true;
}

inline void cookie_jar::remove_expired_locked(clock::time_point now) {
  std::erase_if(entries_, [&](const entry& e) { return e.c.expired(now); });
}

inline std::string cookie_jar::header_for(const url& to, request_context context,
                                          clock::time_point now) {
  const std::string_view host = detail::cookie_host(to);
  const bool is_ip = detail::cookie_host_is_ip(host);
  const bool secure = detail::cookie_secure_origin(to);
  const std::string_view method = context.method.empty() ? "GET" : context.method;
  const bool safe_method =
      method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE";

  const std::lock_guard lock(mutex_);
  remove_expired_locked(now);
  std::vector<const cookie*> matches;
  for (const entry& e : entries_) {
    const cookie& c = e.c;
    if (c.secure && !secure) continue;
    const bool domain_ok =
        !c.host_only && !is_ip ? detail::cookie_tailmatch(c.domain, host) : iequals(host, c.domain);
    if (!domain_ok || !detail::cookie_path_match(c.path, to.path)) continue;
    if (context.cross_site && (c.same_site == cookie_same_site::strict ||
                               (c.same_site == cookie_same_site::lax && !safe_method)))
      continue;
    matches.push_back(&c);
    // curl counts in list order, before sorting: the cap keeps the earlier in the list.
    if (matches.size() >= limits_.max_sent) break;
  }
  std::sort(matches.begin(), matches.end(), [](const cookie* a, const cookie* b) {
    if (a->path.size() != b->path.size()) return a->path.size() > b->path.size();
    if (a->domain.size() != b->domain.size()) return a->domain.size() > b->domain.size();
    if (a->name.size() != b->name.size()) return a->name.size() > b->name.size();
    return a->creation_order > b->creation_order;
  });
  // curl measures the line with "Cookie: " in front, and stops at the first cookie whose
  // "name=value" would bring it to the limit.
  std::string header;
  std::size_t line = 8;
  for (const cookie* c : matches) {
    const std::size_t add = c->name.size() + c->value.size() + 1;
    if (line + add >= limits_.max_header) break;
    if (!header.empty()) {
      header += "; ";
      line += 2;
    }
    header += c->name;
    header += '=';
    header += c->value;
    line += add;
  }
  return header;
}

inline void cookie_jar::remove_session_cookies() {
  const std::lock_guard lock(mutex_);
  std::erase_if(entries_, [](const entry& e) { return !e.c.expires; });
}

inline void cookie_jar::remove_expired(clock::time_point now) {
  const std::lock_guard lock(mutex_);
  remove_expired_locked(now);
}

inline void cookie_jar::clear() {
  const std::lock_guard lock(mutex_);
  entries_.clear();
}

inline std::vector<cookie> cookie_jar::cookies() const {
  std::vector<cookie> out;
  {
    const std::lock_guard lock(mutex_);
    out.reserve(entries_.size());
    for (const entry& e : entries_) out.push_back(e.c);
  }
  std::sort(out.begin(), out.end(),
            [](const cookie& a, const cookie& b) { return a.creation_order > b.creation_order; });
  return out;
}

inline std::size_t cookie_jar::size() const {
  const std::lock_guard lock(mutex_);
  return entries_.size();
}

inline bool cookie_jar::empty() const {
  return size() == 0;
}

}  // namespace opensock::http
