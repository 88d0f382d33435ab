// The JSON-RPC's TLS context (rpc_tls.h).
#include "node/rpc_tls.h"

#include <openssl/ssl.h>

#include <boost/asio/buffer.hpp>
#include <exception>

namespace colend::node {

namespace ssl = boost::asio::ssl;

std::optional<ssl::context> MakeTlsContext(const RpcTlsConfig& config, bool server,
                                           std::string* error) {
  auto fail = [error](std::string message) -> std::optional<ssl::context> {
    if (error) *error = std::move(message);
    return std::nullopt;
  };
  std::optional<ssl::context> context;
  try {
    context.emplace(server ? ssl::context::tls_server : ssl::context::tls_client);
  } catch (const std::exception& e) {
    return fail(std::string("cannot create a TLS context: ") + e.what());
  }
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(native, SSL_OP_NO_TICKET);
  if (SSL_CTX_set_num_tickets(native, 0) != 1 ||
      SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(native, TLS1_3_VERSION) != 1) {
    return fail("cannot restrict the TLS context to TLS 1.3 without tickets");
  }
  boost::system::error_code ec;
  context->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
  if (ec) return fail("TLS context: " + ec.message());
  if (config.ca_pem.empty()) return fail("TLS: the CA certificate is empty");
  context->add_certificate_authority(boost::asio::buffer(config.ca_pem), ec);
  if (ec) return fail("TLS: the CA certificate does not load: " + ec.message());
  context->use_certificate_chain(boost::asio::buffer(config.cert_pem), ec);
  if (ec) return fail("TLS: the certificate does not load: " + ec.message());
  context->use_private_key(boost::asio::buffer(config.key_pem), ssl::context::pem, ec);
  if (ec) return fail("TLS: the private key does not load: " + ec.message());
  if (SSL_CTX_check_private_key(native) != 1) {
    return fail("TLS: the private key does not match the certificate");
  }
  return context;
}

}  // namespace colend::node
