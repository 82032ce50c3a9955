// -J: the file name a response's Content-Disposition field gives, read as curl 7.88 reads
// it, then made safe to create in the output directory.
#pragma once

#include <opensock/http/fields.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace fetch {

/// The file name of the `filename=` parameter of a Content-Disposition header line (as
/// received, with its line end), or nullopt: the line is another field, names no file,
/// or nothing is left of the name. As curl: the field's name in any case, `filename*=`
/// not read, the value up to its closing quote (or to ';' unquoted), only what follows
/// its last '/' or '\'. Beyond curl 7.88, leading dots are taken off too, so that no name
/// is hidden, "." or "..".
inline std::optional<std::string> content_disposition_name(std::string_view line) {
  constexpr std::string_view field = "content-disposition:";
  if (line.size() <= field.size() ||
      !opensock::http::iequals(line.substr(0, field.size()), field))
    return std::nullopt;
  std::string_view rest = line.substr(field.size());
  const auto is_alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  for (;;) {
    while (!rest.empty() && !is_alpha(rest.front())) rest.remove_prefix(1);
    if (rest.size() < 9) return std::nullopt;
    if (rest.substr(0, 9) == "filename=") break;
    const auto next = rest.find(';');
    if (next == std::string_view::npos) return std::nullopt;
    rest.remove_prefix(next);
  }
  std::string_view name = rest.substr(9);
  char stop = ';';
  if (!name.empty() && (name.front() == '"' || name.front() == '\'')) {
    stop = name.front();
    name.remove_prefix(1);
  }
  name = name.substr(0, name.find(stop));
  for (const char separator : {'/', '\\'}) {
    const auto cut = name.rfind(separator);
    if (cut == std::string_view::npos) continue;
    name.remove_prefix(cut + 1);
    if (name.empty()) return std::nullopt;
  }
  name = name.substr(0, name.find_first_of("\r\n"));
  while (!name.empty() && name.front() == '.') name.remove_prefix(1);
  if (name.empty()) return std::nullopt;
  return std::string(name);
}

}  // namespace fetch
