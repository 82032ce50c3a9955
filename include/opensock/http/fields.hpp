// HTTP header fields: names compared without regard to ASCII case, order and duplicates
// kept as received, since both matter (Set-Cookie, repeated Via, folded lists).
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace opensock::http {

class response_parser;

namespace detail {

// Eight bytes with ASCII upper-case letters made lower case, all at once: a byte gets
// 0x20 added when it is from 'A' to 'Z', and only then.
inline std::uint64_t ascii_lower8(std::uint64_t x) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101u;
  const std::uint64_t low7 = x & (0x7f * ones);
  const std::uint64_t above_z = low7 + (0x7f - 'Z') * ones;  // high bit: byte > 'Z'
  const std::uint64_t from_a = low7 + (0x80 - 'A') * ones;   // high bit: byte >= 'A'
  const std::uint64_t upper = (from_a ^ above_z) & ~x & (0x80 * ones);
  return x | (upper >> 2);
}

inline std::uint64_t load8(const char* p) noexcept {
  std::uint64_t word;
  std::memcpy(&word, p, sizeof word);
  return word;
}

}  // namespace detail

/// Whether `a` and `b` are equal but for ASCII case. Compares eight bytes at a time:
/// header names are compared on every lookup.
inline bool iequals(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = a.size();
  if (n != b.size()) return false;
  const auto differ_at = [&](std::size_t i) {
    return detail::ascii_lower8(detail::load8(a.data() + i)) !=
           detail::ascii_lower8(detail::load8(b.data() + i));
  };
  if (n >= 8) {
    // Whole words, the last one overlapping the one before it.
    for (std::size_t i = 0; i + 8 < n; i += 8)
      if (differ_at(i)) return false;
    return !differ_at(n - 8);
  }
  for (std::size_t i = 0; i < n; ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

namespace detail {

// Whether `a` equals `lower`, which holds no upper-case letter, but for ASCII case.
// Only `a` is folded: cheaper than iequals() where one side is a constant name, as when
// a parser looks for the fields that frame a message.
inline bool iequals_lower(std::string_view a, std::string_view lower) noexcept {
  const std::size_t n = a.size();
  if (n != lower.size()) return false;
  if (n >= 8) {
    for (std::size_t i = 0; i + 8 < n; i += 8)
      if (ascii_lower8(load8(a.data() + i)) != load8(lower.data() + i)) return false;
    return ascii_lower8(load8(a.data() + n - 8)) == load8(lower.data() + n - 8);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const char x = a[i];
    if ((x >= 'A' && x <= 'Z' ? char(x - 'A' + 'a') : x) != lower[i]) return false;
  }
  return true;
}

// `s` without the blanks (OWS: spaces and tabs) at either end.
inline std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace detail

/// Header fields in the order they came or were added, duplicates kept, names compared
/// without regard to case. The bytes of every name and value live in one string and the
/// fields are offsets into it, so a message's fields cost two allocations however many
/// there are, and none once the storage has grown for a connection's messages.
class fields {
 public:
  struct field {
    std::string_view name;
    std::string_view value;
  };

 private:
  struct entry {
    std::uint32_t name_at, name_size, value_at, value_size;
  };

 public:
  class const_iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = field;
    using difference_type = std::ptrdiff_t;
    using reference = field;
    struct pointer {
      field f;
      const field* operator->() const noexcept { return &f; }
    };

    const_iterator() = default;
    field operator*() const noexcept { return owner_->at(*it_); }
    pointer operator->() const noexcept { return {**this}; }
    field operator[](difference_type n) const noexcept { return owner_->at(it_[n]); }
    const_iterator& operator++() noexcept { ++it_; return *this; }
    const_iterator operator++(int) noexcept { auto old = *this; ++it_; return old; }
    const_iterator& operator--() noexcept { --it_; return *this; }
    const_iterator operator--(int) noexcept { auto old = *this; --it_; return old; }
    const_iterator& operator+=(difference_type n) noexcept { it_ += n; return *this; }
    const_iterator& operator-=(difference_type n) noexcept { it_ -= n; return *this; }
    friend const_iterator operator+(const_iterator i, difference_type n) noexcept { return i += n; }
    friend const_iterator operator+(difference_type n, const_iterator i) noexcept { return i += n; }
    friend const_iterator operator-(const_iterator i, difference_type n) noexcept { return i -= n; }
    friend difference_type operator-(const const_iterator& a, const const_iterator& b) noexcept {
      return a.it_ - b.it_;
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) noexcept {
      return a.it_ == b.it_;
    }
    friend auto operator<=>(const const_iterator& a, const const_iterator& b) noexcept {
      return a.it_ <=> b.it_;
    }

   private:
    friend class fields;
    const_iterator(const fields* owner, std::vector<entry>::const_iterator it)
        : owner_(owner), it_(it) {}
    const fields* owner_ = nullptr;
    std::vector<entry>::const_iterator it_;
  };

  fields() = default;
  /// `{{"Accept", "*/*"}, {"X-Id", "7"}}`: up to 16 fields, in that order; add() the
  /// rest. One constructor per count rather than one taking a std::initializer_list:
  /// g++ 12 cannot compile the array behind a braced list in a co_await expression
  /// ("array used as initializer"), and that is where a list is written most, as in
  /// `co_await session.post(url, body, {{"Content-Type", "text/plain"}})`.
  fields(field f1) { add_each(f1); }
  fields(field f1, field f2) { add_each(f1, f2); }
  fields(field f1, field f2, field f3) { add_each(f1, f2, f3); }
  fields(field f1, field f2, field f3, field f4) { add_each(f1, f2, f3, f4); }
  fields(field f1, field f2, field f3, field f4, field f5) { add_each(f1, f2, f3, f4, f5); }
  fields(field f1, field f2, field f3, field f4, field f5, field f6) {
    add_each(f1, f2, f3, f4, f5, f6);
  }
  fields(field f1, field f2, field f3, field f4, field f5, field f6, field f7) {
    add_each(f1, f2, f3, f4, f5, f6, f7);
  }
  fields(field f1, field f2, field f3, field f4, field f5, field f6, field f7, field f8) {
    add_each(f1, f2, f3, f4, f5, f6, f7, f8);
  }
  fields(field f1, field f2, field f3, field f4, field f5, field f6, field f7, field f8, field f9) {
    add_each(f1, f2, f3, f4, f5, f6, f7, f8, f9);
  }
  fields(field f1, field f2, field f3, field f4, field f5, field f6, field f7, field f8, field f9,
         field f10) {
    add_each(f1, f2, f3, f4, f5, f6, f7, f8, f9, f10);
  }
  fields(field f1, field f2, field f3, field f4, field f5, field f6, field f7, field f8, field f9,
         field f10, field f11) {
    add_each(f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11);
  }
  fields(field f1, field f2, field f3, field f4, field f5, field f6, field f7, field f8, field f9,
         field f10, field f11, field f12) {
    add_each(f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12);
  }
  fields(field f1, field f2, field f3, field f4, field f5, field f6, field f7, field f8, field f9,
         field f10, field f11, field f12, field f13) {
    add_each(f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13);
  }
  fields(field f1, field f2, field f3, field f4, field f5, field f6, field f7, field f8, field f9,
         field f10, field f11, field f12, field f13, field f14) {
    add_each(f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14);
  }
  fields(field f1, field f2, field f3, field f4, field f5, field f6, field f7, field f8, field f9,
         field f10, field f11, field f12, field f13, field f14, field f15) {
    add_each(f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15);
  }
  fields(field f1, field f2, field f3, field f4, field f5, field f6, field f7, field f8, field f9,
         field f10, field f11, field f12, field f13, field f14, field f15, field f16) {
    add_each(f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16);
  }

  /// Adds a field after the others, keeping any of the same name.
  void add(std::string_view name, std::string_view value) {
    entry e{};
    e.name_at = append(name);
    e.name_size = static_cast<std::uint32_t>(name.size());
    e.value_at = append(value);
    e.value_size = static_cast<std::uint32_t>(value.size());
    entries_.push_back(e);
    live_ += name.size() + value.size();
  }

  /// Replaces every field named `name` with one, in the place of the first.
  void set(std::string_view name, std::string_view value) {
    auto it = find(name);
    if (it == entries_.end()) {
      add(name, value);
      return;
    }
    live_ -= it->value_size;
    it->value_at = append(value);
    it->value_size = static_cast<std::uint32_t>(value.size());
    live_ += value.size();
    // Later fields of the same name go.
    std::size_t kept = static_cast<std::size_t>(it - entries_.begin()) + 1;
    for (std::size_t i = kept; i < entries_.size(); ++i) {
      if (iequals(name_of(entries_[i]), name)) {
        live_ -= entries_[i].name_size + entries_[i].value_size;
      } else {
        entries_[kept++] = entries_[i];
      }
    }
    entries_.resize(kept);
    compact_if_sparse();
  }

  /// Removes every field named `name`; returns how many there were.
  std::size_t erase(std::string_view name) {
    const auto before = entries_.size();
    std::erase_if(entries_, [&](const entry& e) {
      if (!iequals(name_of(e), name)) return false;
      live_ -= e.name_size + e.value_size;
      return true;
    });
    compact_if_sparse();
    return before - entries_.size();
  }

  /// The value of the first field named `name`.
  std::optional<std::string_view> get(std::string_view name) const noexcept {
    for (const auto& e : entries_)
      if (iequals(name_of(e), name)) return value_of(e);
    return std::nullopt;
  }

  bool contains(std::string_view name) const noexcept { return get(name).has_value(); }

  /// The same fields, with the same bytes, in the same order.
  friend bool operator==(const fields& a, const fields& b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const field x = a.begin()[static_cast<std::ptrdiff_t>(i)];
      const field y = b.begin()[static_cast<std::ptrdiff_t>(i)];
      if (x.name != y.name || x.value != y.value) return false;
    }
    return true;
  }

  std::size_t count(std::string_view name) const noexcept {
    std::size_t n = 0;
    for (const auto& e : entries_) n += iequals(name_of(e), name) ? 1 : 0;
    return n;
  }

  /// Every value of the fields named `name`, in order.
  std::vector<std::string_view> get_all(std::string_view name) const {
    std::vector<std::string_view> values;
    for (const auto& e : entries_)
      if (iequals(name_of(e), name)) values.push_back(value_of(e));
    return values;
  }

  const_iterator begin() const noexcept { return {this, entries_.begin()}; }
  const_iterator end() const noexcept { return {this, entries_.end()}; }
  std::size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }
  /// Room for fields of `bytes` bytes of names and values, `count` fields in all.
  void reserve(std::size_t bytes, std::size_t count) {
    text_.reserve(bytes);
    entries_.reserve(count);
  }

  /// Bytes of names and values held now, and that the storage holds without growing.
  std::size_t size_bytes() const noexcept { return text_.size(); }
  std::size_t capacity_bytes() const noexcept { return text_.capacity(); }

  /// Keeps the storage for the next message.
  void clear() noexcept {
    entries_.clear();
    text_.clear();
    live_ = 0;
  }

  /// Extends the last field's value, for a parser joining an obs-fold continuation.
  void append_to_last_value(std::string_view more) {
    entry& last = entries_.back();
    if (last.value_at + last.value_size != text_.size()) {
      const std::string value(value_of(last));
      last.value_at = append(value);
    }
    text_.append(more);
    last.value_size += static_cast<std::uint32_t>(more.size());
    live_ += more.size();
  }

  /// The last field's value.
  std::string_view last_value() const noexcept { return value_of(entries_.back()); }

  // Copies take only the live bytes, so a copy of a much-edited list is compact.
  fields(const fields& other) { assign(other); }
  fields& operator=(const fields& other) {
    if (this != &other) assign(other);
    return *this;
  }
  fields(fields&&) noexcept = default;
  fields& operator=(fields&&) noexcept = default;

  void swap(fields& other) noexcept {
    text_.swap(other.text_);
    entries_.swap(other.entries_);
    std::swap(live_, other.live_);
  }
  friend void swap(fields& a, fields& b) noexcept { a.swap(b); }

 private:
  friend class response_parser;


  // For the response parser: fields added as views into a block of received header
  // lines, whose bytes are copied into the storage in one piece when the block closes,
  // rather than name by name and value by value. Until it closes, the fields it added
  // are not to be read. `base` is block_base() when the block opened.
  std::uint32_t block_base() const noexcept { return static_cast<std::uint32_t>(text_.size()); }
  void add_in_block(std::uint32_t base, const char* block, std::string_view name,
                    std::string_view value) {
    entries_.push_back({base + static_cast<std::uint32_t>(name.data() - block),
                        static_cast<std::uint32_t>(name.size()),
                        base + static_cast<std::uint32_t>(value.data() - block),
                        static_cast<std::uint32_t>(value.size())});
    live_ += name.size() + value.size();
  }
  void close_block(std::string_view bytes) { append(bytes); }

  template <class... Field>
  void add_each(const Field&... f) {
    reserve((std::size_t{0} + ... + (f.name.size() + f.value.size())), sizeof...(f));
    (add(f.name, f.value), ...);
  }

  field at(const entry& e) const noexcept { return {name_of(e), value_of(e)}; }
  std::string_view name_of(const entry& e) const noexcept {
    return {text_.data() + e.name_at, e.name_size};
  }
  std::string_view value_of(const entry& e) const noexcept {
    return {text_.data() + e.value_at, e.value_size};
  }
  std::vector<entry>::iterator find(std::string_view name) noexcept {
    auto it = entries_.begin();
    while (it != entries_.end() && !iequals(name_of(*it), name)) ++it;
    return it;
  }
  std::uint32_t append(std::string_view bytes) {
    if (text_.size() + bytes.size() > std::numeric_limits<std::uint32_t>::max())
      throw std::length_error("opensock::http::fields: over 4 GiB of fields");
    const auto at = static_cast<std::uint32_t>(text_.size());
    text_.append(bytes);
    return at;
  }
  void assign(const fields& other) {
    if (other.text_.size() == other.live_) {
      text_ = other.text_;
      entries_ = other.entries_;
      live_ = other.live_;
      return;
    }
    clear();
    text_.reserve(other.live_);
    entries_.reserve(other.entries_.size());
    for (const auto& e : other.entries_) add(other.name_of(e), other.value_of(e));
  }
  // Values replaced and fields erased leave their bytes behind; past half of the
  // storage they are dropped, so a list edited in a loop does not grow without end.
  void compact_if_sparse() {
    if (text_.size() <= 2 * live_ + 256) return;
    fields compact;
    compact.assign(*this);
    *this = std::move(compact);
  }

  std::string text_;
  std::vector<entry> entries_;
  std::size_t live_ = 0;
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
