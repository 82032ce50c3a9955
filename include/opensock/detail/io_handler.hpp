// A completion handler of void(std::error_code, std::size_t) with its type erased, for
// the layers of a transport, which are chosen per connection at run time and so cannot
// be templates over the caller's handler. It keeps what Asio asks of a handler: the
// associated executor, cancellation slot and allocator of the handler it holds.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/associated_allocator.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/recycling_allocator.hpp>

#include <cstddef>
#include <memory>
#include <type_traits>
#include <system_error>
#include <utility>

namespace opensock::detail {

class io_handler {
 public:
  using executor_type = asio::any_io_executor;
  using cancellation_slot_type = asio::cancellation_slot;

  /// Holds `handler`; `io_executor` is the executor of the I/O object it completes for,
  /// the one a handler with no executor of its own is associated with.
  template <class Handler>
  io_handler(Handler&& handler, const asio::any_io_executor& io_executor)
      : executor_(executor_of(handler, io_executor)),
        slot_(asio::get_associated_cancellation_slot(handler)) {
    using held = holder<std::decay_t<Handler>>;
    // Recycled per thread, as Asio recycles the memory of its own operations.
    typename std::allocator_traits<asio::recycling_allocator<void>>::template rebind_alloc<held>
        alloc;
    held* made = alloc.allocate(1);
    ::new (static_cast<void*>(made)) held(std::forward<Handler>(handler));
    held_ = made;
  }

  io_handler(io_handler&& other) noexcept
      : executor_(std::move(other.executor_)),
        slot_(other.slot_),
        held_(std::exchange(other.held_, nullptr)) {}
  io_handler& operator=(io_handler&&) = delete;
  io_handler(const io_handler&) = delete;
  ~io_handler() {
    if (held_) held_->destroy();
  }

  executor_type get_executor() const noexcept { return executor_; }
  cancellation_slot_type get_cancellation_slot() const noexcept { return slot_; }

  /// Completes: the handler is moved out and its memory freed before it is called, so
  /// that it may start the next operation, which may use the same memory.
  void operator()(std::error_code ec, std::size_t n) {
    base* h = std::exchange(held_, nullptr);
    h->complete(ec, n);
  }

 private:
  // A handler's own executor when it is an I/O executor; one that is not (a future's,
  // which completes on whatever thread) is served by the I/O object's.
  template <class Handler>
  static asio::any_io_executor executor_of(const Handler& handler,
                                           const asio::any_io_executor& io_executor) {
    using associated = asio::associated_executor_t<Handler, asio::any_io_executor>;
    if constexpr (std::is_convertible_v<associated, asio::any_io_executor>) {
      return asio::get_associated_executor(handler, io_executor);
    } else {
      return io_executor;
    }
  }

  struct base {
    virtual void complete(std::error_code ec, std::size_t n) = 0;
    virtual void destroy() noexcept = 0;

   protected:
    ~base() = default;
  };

  template <class Handler>
  struct holder final : base {
    explicit holder(Handler&& h) : handler(std::move(h)) {}
    explicit holder(const Handler& h) : handler(h) {}
    using alloc_type = typename std::allocator_traits<
        asio::recycling_allocator<void>>::template rebind_alloc<holder>;

    void complete(std::error_code ec, std::size_t n) override {
      Handler moved(std::move(handler));
      destroy();
      std::move(moved)(ec, n);
    }
    void destroy() noexcept override {
      alloc_type alloc;
      this->~holder();
      alloc.deallocate(this, 1);
    }
    Handler handler;
  };

  executor_type executor_;
  cancellation_slot_type slot_;
  base* held_ = nullptr;
};

}  // namespace opensock::detail
