// Turns an exception that escaped user code (a factory, a handler) into the error_code
// opensock reports, since opensock's operations complete with error codes only.
#pragma once

#include <opensock/error.hpp>

#include <exception>
#include <new>
#include <system_error>

namespace opensock::detail {

inline std::error_code error_from_exception(std::exception_ptr e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const std::system_error& se) {
    return se.code();
  } catch (const std::bad_alloc&) {
    return error::out_of_memory;
  } catch (...) {
    return error::aborted_by_callback;
  }
}

}  // namespace opensock::detail
