// The node's TLS context (tls_context.h).
#include "node/tls_context.h"

#include <openssl/ssl.h>

#include <boost/asio/buffer.hpp>
#include <exception>

namespace colend::node {

namespace ssl = boost::asio::ssl;

std::optional<ssl::context> MakeTlsContext(const std::string& ca_pem, const std::string& cert_pem,
                                           const std::string& key_pem, std::string* error) {
  auto fail = [error](std::string message) -> std::optional<ssl::context> {
    if (error) *error = std::move(message);
    return std::nullopt;
  };
  std::optional<ssl::context> context;
  try {
    context.emplace(ssl::context::tlsv13);
  } catch (const std::exception& e) {
    return fail(std::string("cannot create a TLS context: ") + e.what());
  }
  SSL_CTX* native = context->native_handle();
  // No resumption: a resumed session skips the certificate callback.
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(native, SSL_OP_NO_TICKET);
  if (SSL_CTX_set_num_tickets(native, 0) != 1 ||
      SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(native, TLS1_3_VERSION) != 1) {
    return fail("cannot restrict the TLS context to TLS 1.3 without tickets");
  }
  boost::system::error_code ec;
  context->set_options(ssl::context::default_workarounds | ssl::context::no_compression, ec);
  if (!ec) context->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
  if (ec) return fail("TLS context: " + ec.message());
  if (ca_pem.empty()) return fail("ca_pem is empty");
  context->add_certificate_authority(boost::asio::buffer(ca_pem), ec);
  if (ec) return fail("ca_pem: " + ec.message());
  context->use_certificate_chain(boost::asio::buffer(cert_pem), ec);
  if (ec) return fail("cert_pem: " + ec.message());
  context->use_private_key(boost::asio::buffer(key_pem), ssl::context::pem, ec);
  if (ec) return fail("key_pem: " + ec.message());
  if (SSL_CTX_check_private_key(native) != 1) return fail("key_pem does not match cert_pem");
  return context;
}

}  // namespace colend::node
