// How factory decorators compose: `factory | layer | layer`, read left to right, each
// layer wrapping what stands to its left. A layer may stop an attempt before the inner
// factory runs, adjust the socket the inner factory answered, and take part in close.
#pragma once

#include <opensock/open_context.hpp>
#include <opensock/open_result.hpp>
#include <opensock/socket_factory.hpp>

#include <asio/awaitable.hpp>
#include <asio/ip/address.hpp>

#include <concepts>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace opensock {

/// What a layer's before() hook says: go on to the inner factory, or answer now.
using layer_verdict = std::variant<std::monostate, refusal, abortion>;

inline const layer_verdict proceed{};

/// A layer is any class with some of these members (Context is open_context<P>):
///   layer_verdict before(Context&)
///       runs before the inner factory; may refuse or abort the attempt
///   layer_verdict after(Context&, open_result<Stream>&)
///       runs on the inner factory's answer, e.g. to set options on its socket; a
///       refusal or abort closes that socket through the inner factory
///   void close(Stream&)
///       runs before the inner factory's close
/// Mark it as one by deriving from opensock::layer_base. The connector calls the
/// outermost (rightmost) layer first; its after() runs last.
/// A layer that judges addresses (an address guard) also has
///   bool refuses(const asio::ip::address&) const
///   bool guards() const   (optional: whether it judges any now; true without it)
/// and the factory it wraps then guards the origins behind proxies (guards_origins_v).
struct layer_base {};

template <class T>
concept factory_layer = std::is_base_of_v<layer_base, std::remove_cvref_t<T>>;

template <class T>
concept address_guard = factory_layer<T> && requires(const T& t, const asio::ip::address& a) {
  { t.refuses(a) } -> std::convertible_to<bool>;
};

namespace detail {

template <class Inner, class Context>
using inner_answer_t = std::invoke_result_t<Inner&, Context&>;

template <class Inner, class Context>
using inner_result_t =
    open_result<typename factory_answer<inner_answer_t<Inner, Context>,
                                        typename Context::endpoint_type>::stream_type>;

template <class Inner, class Context>
inline constexpr bool inner_is_coroutine_v =
    factory_answer<inner_answer_t<Inner, Context>, typename Context::endpoint_type>::is_awaitable;

}  // namespace detail

/// `Inner` decorated by `Layer`. It is a coroutine factory exactly when Inner is one.
template <class Inner, class Layer>
class layered_factory {
 public:
  static constexpr bool skips_resolution = skips_resolution_v<Inner>;

  layered_factory(Inner inner, Layer layer) : inner_(std::move(inner)), layer_(std::move(layer)) {}

  template <class Context>
    requires std::invocable<Inner&, Context&>
  auto operator()(Context& context) {
    if constexpr (detail::inner_is_coroutine_v<Inner, Context>) {
      return open_awaited(context);
    } else {
      return open_now(context);
    }
  }

  template <class Stream>
  void close(Stream& stream) noexcept {
    if constexpr (requires { layer_.close(stream); }) layer_.close(stream);
    close_stream(inner_, stream);
  }

  /// Whether this layer, or one under it, judges the origins behind proxies now.
  bool guards_origins() const
    requires(address_guard<Layer> || guards_origins_v<Inner>)
  {
    if constexpr (address_guard<Layer>) {
      if constexpr (requires { layer_.guards(); }) {
        if (layer_.guards()) return true;
      } else {
        return true;
      }
    }
    return opensock::guards_origins(inner_);
  }

  /// Whether this layer, or one under it, refuses `address` for an origin behind proxies.
  bool refuses_origin(const asio::ip::address& address) const
    requires(address_guard<Layer> || guards_origins_v<Inner>)
  {
    if constexpr (address_guard<Layer>) {
      bool guarding = true;
      if constexpr (requires { layer_.guards(); }) guarding = layer_.guards();
      if (guarding && layer_.refuses(address)) return true;
    }
    if constexpr (guards_origins_v<Inner>) {
      return opensock::guards_origins(inner_) && opensock::refuses_origin(inner_, address);
    } else {
      return false;
    }
  }

  Inner& inner() noexcept { return inner_; }
  Layer& layer() noexcept { return layer_; }

 private:
  template <class Context, class Result>
  std::optional<Result> stop_before(Context& context) {
    if constexpr (requires { layer_.before(context); }) {
      layer_verdict verdict = layer_.before(context);
      if (auto* r = std::get_if<refusal>(&verdict)) return Result(*r);
      if (auto* a = std::get_if<abortion>(&verdict)) return Result(*a);
    }
    return std::nullopt;
  }

  template <class Context, class Result>
  void adjust_after(Context& context, Result& result) {
    if constexpr (requires { layer_.after(context, result); }) {
      layer_verdict verdict;
      try {
        verdict = layer_.after(context, result);
      } catch (...) {
        if (result.has_stream()) close_stream(inner_, result.stream());
        throw;
      }
      if (std::holds_alternative<std::monostate>(verdict)) return;
      if (result.has_stream()) close_stream(inner_, result.stream());
      if (auto* r = std::get_if<refusal>(&verdict)) result = Result(*r);
      if (auto* a = std::get_if<abortion>(&verdict)) result = Result(*a);
    }
  }

  template <class Context>
  detail::inner_result_t<Inner, Context> open_now(Context& context) {
    using result_type = detail::inner_result_t<Inner, Context>;
    if (auto stopped = stop_before<Context, result_type>(context)) return std::move(*stopped);
    result_type result = inner_(context);
    adjust_after(context, result);
    return result;
  }

  template <class Context>
  asio::awaitable<detail::inner_result_t<Inner, Context>> open_awaited(Context& context) {
    using result_type = detail::inner_result_t<Inner, Context>;
    if (auto stopped = stop_before<Context, result_type>(context)) co_return std::move(*stopped);
    result_type result = co_await inner_(context);
    adjust_after(context, result);
    co_return result;
  }

  Inner inner_;
  Layer layer_;
};

/// `factory | layer`: the layer wraps the factory. Layers stack left to right.
template <class Inner, factory_layer Layer>
  requires(!factory_layer<Inner>)
layered_factory<std::remove_cvref_t<Inner>, std::remove_cvref_t<Layer>> operator|(Inner&& inner,
                                                                                  Layer&& layer) {
  return {std::forward<Inner>(inner), std::forward<Layer>(layer)};
}

}  // namespace opensock
