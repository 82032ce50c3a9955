// Where a session keeps the TLS context its connections share: one for the settings in
// use, made again when they change. The context itself is made by tls/context.hpp's
// context_for(), in builds with OpenSSL; the cache has the same shape in every build.
#pragma once

#include <opensock/tls/options.hpp>

#include <memory>
#include <mutex>

namespace opensock::tls {

class context_cache {
 private:
  friend struct context_cache_access;
  std::mutex mutex_;
  // An asio::ssl::context, held without naming OpenSSL's types.
  std::shared_ptr<void> context_;
  options made_for_;
};

}  // namespace opensock::tls
