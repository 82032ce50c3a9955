// An OpenSSL context made from tls::options: trusted CAs, client certificate, minimum
// version. What cannot be loaded fails with curl's numbers: 77 for CAs, 58 for the
// client certificate or key.
#pragma once

#include <opensock/error.hpp>
#include <opensock/tls/options.hpp>

#include <asio/ssl/context.hpp>

#include <openssl/ssl.h>

#include <memory>
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

}  // namespace opensock::tls
