// HTTP header fields: names compared without regard to ASCII case, order and duplicates
// kept as received, since both matter (Set-Cookie, repeated Via, folded lists).
#pragma once

#include <optional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace opensock::http {

inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

class fields {
 public:
  struct field {
    std::string name;
    std::string value;
  };
  using const_iterator = std::vector<field>::const_iterator;

  fields() = default;
  /// `{{"Accept", "*/*"}, {"X-Id", "7"}}`, in that order.
  fields(std::initializer_list<field> list) : list_(list) {}

  /// Adds a field after the others, keeping any of the same name.
  void add(std::string name, std::string value) {
    list_.push_back({std::move(name), std::move(value)});
  }

  /// Replaces every field named `name` with one, in the place of the first.
  void set(std::string_view name, std::string value) {
    auto it = list_.begin();
    for (; it != list_.end(); ++it)
      if (iequals(it->name, name)) break;
    if (it == list_.end()) {
      add(std::string(name), std::move(value));
      return;
    }
    it->value = std::move(value);
    for (auto next = it + 1; next != list_.end();) {
      next = iequals(next->name, name) ? list_.erase(next) : next + 1;
    }
  }

  /// Removes every field named `name`; returns how many there were.
  std::size_t erase(std::string_view name) {
    const auto before = list_.size();
    std::erase_if(list_, [&](const field& f) { return iequals(f.name, name); });
    return before - list_.size();
  }

  /// The value of the first field named `name`.
  std::optional<std::string_view> get(std::string_view name) const noexcept {
    for (const auto& f : list_)
      if (iequals(f.name, name)) return std::string_view(f.value);
    return std::nullopt;
  }

  bool contains(std::string_view name) const noexcept { return get(name).has_value(); }

  std::size_t count(std::string_view name) const noexcept {
    std::size_t n = 0;
    for (const auto& f : list_) n += iequals(f.name, name) ? 1 : 0;
    return n;
  }

  /// Every value of the fields named `name`, in order.
  std::vector<std::string_view> get_all(std::string_view name) const {
    std::vector<std::string_view> values;
    for (const auto& f : list_)
      if (iequals(f.name, name)) values.emplace_back(f.value);
    return values;
  }

  const_iterator begin() const noexcept { return list_.begin(); }
  const_iterator end() const noexcept { return list_.end(); }
  std::size_t size() const noexcept { return list_.size(); }
  bool empty() const noexcept { return list_.empty(); }
  void clear() noexcept { list_.clear(); }  // keeps the capacity for the next message

  /// The last field, for a parser appending an obs-fold continuation.
  field& back() noexcept { return list_.back(); }

 private:
  std::vector<field> list_;
};

/// Whether a comma-separated header value holds `token` (case-insensitive), as in
/// "Connection: keep-alive, Upgrade".
inline bool has_token(std::string_view list, std::string_view token) noexcept {
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace opensock::http
