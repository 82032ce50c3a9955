// Cookie files in the Netscape format curl reads (-b) and writes (-c): one cookie a line,
// seven fields separated by tabs, written line for line as curl writes them.
#pragma once

#include <opensock/error.hpp>
#include <opensock/http/cookie.hpp>
#include <opensock/http/cookie_jar.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace opensock::http {

/// Adds the cookies of a cookie file's text to `jar`, then removes those expired at `now`.
/// Lines as curl reads them: "#HttpOnly_" before the domain marks an HttpOnly cookie, other
/// lines starting with '#' and blank lines are skipped; the fields are domain (a leading
/// '.' dropped), include-subdomains (TRUE), path (may be left out: six fields then),
/// secure, expiry (seconds since 1970, 0 for a session cookie), name and value (may be
/// left out). A line curl would not take is skipped: too few or too many fields, an expiry
/// that is not a number, control bytes, a prefix whose rules do not hold, a domain
/// cookie for a public suffix, a line of jar.limits().max_line bytes or more. Lines that start
/// "Set-Cookie:", which curl reads as a header, are skipped: they name no host.
void read_cookie_file(std::string_view text, cookie_jar& jar,
                      cookie_clock::time_point now = cookie_clock::now());

/// The jar as curl writes a cookie file: a header of three comment lines naming opensock
/// and a blank line, then a line per cookie not expired at `now`, the newest first.
std::string write_cookie_file(const cookie_jar& jar,
                              cookie_clock::time_point now = cookie_clock::now());

/// One cookie's line, without its newline.
std::string cookie_file_line(const cookie& c);

/// Reads the file at `path` into `jar`. A file that does not exist, or is a directory,
/// loads nothing and is no error, as for curl's -b (curl warns; the caller may). A file
/// that exists but cannot be read is error::read_error.
std::error_code load_cookie_file(const std::filesystem::path& path, cookie_jar& jar,
                                 cookie_clock::time_point now = cookie_clock::now());

/// Writes write_cookie_file(jar) to `path` through a temporary file in the same directory
/// (created for the owner alone: cookies are credentials) renamed over it, so a reader
/// never sees half a file. Any failure is error::write_error (curl's 23). curl's "-" for
/// standard output is the command line's business, not this function's.
std::error_code save_cookie_file(const std::filesystem::path& path, const cookie_jar& jar,
                                 cookie_clock::time_point now = cookie_clock::now());

}  // namespace opensock::http

#include <opensock/http/impl/cookie_file.hpp>
