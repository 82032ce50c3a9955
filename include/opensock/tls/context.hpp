// An OpenSSL context made from tls::options: trusted CAs, client certificate, minimum
// version. What cannot be loaded fails with curl's numbers: 77 for CAs, 58 for the
// client certificate or key.
#pragma once

#include <opensock/error.hpp>
#include <opensock/tls/context_cache.hpp>
#include <opensock/tls/options.hpp>

#include <asio/ssl/context.hpp>

#include <openssl/ssl.h>

#include <memory>
#include <mutex>
#include <system_error>

namespace opensock::tls {

inline std::shared_ptr<asio::ssl::context> make_context(const options& o, std::error_code& ec) {
  ec.clear();
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native,
                                o.min_version == version::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION);
  if (o.verify) {
    std::error_code load;
    if (o.ca_file) context->load_verify_file(o.ca_file->string(), load);
    if (!load && o.ca_path) context->add_verify_path(o.ca_path->string(), load);
    if (!load && !o.ca_file && !o.ca_path) context->set_default_verify_paths(load);
    if (load) {
      ec = error::ssl_cacert_badfile;
      return nullptr;
    }
    context->set_verify_mode(asio::ssl::verify_peer);
  } else {
    context->set_verify_mode(asio::ssl::verify_none);
  }
  if (o.certificate) {
    std::error_code load;
    context->use_certificate_chain_file(o.certificate->string(), load);
    if (!load)
      context->use_private_key_file((o.private_key ? *o.private_key : *o.certificate).string(),
                                    asio::ssl::context::pem, load);
    if (load) {
      ec = error::ssl_certproblem;
      return nullptr;
    }
  }
  return context;
}

struct context_cache_access {
  static std::shared_ptr<asio::ssl::context> get(context_cache& cache, const options& o,
                                                 std::error_code& ec) {
    std::lock_guard lock(cache.mutex_);
    ec.clear();
    if (!cache.context_ || cache.made_for_ != o) {
      auto made = make_context(o, ec);
      if (ec) return nullptr;
      cache.context_ = made;
      cache.made_for_ = o;
      return made;
    }
    return std::static_pointer_cast<asio::ssl::context>(cache.context_);
  }
};

/// The context for `o` from `cache`, made when the cache holds none for these settings.
/// Safe to call from several threads at once.
inline std::shared_ptr<asio::ssl::context> context_for(context_cache& cache, const options& o,
                                                       std::error_code& ec) {
  return context_cache_access::get(cache, o, ec);
}

}  // namespace opensock::tls
