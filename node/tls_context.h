// The TLS context every connection of a node uses: the P2P transport (transport.h) and the
// JSON-RPC beyond loopback (rpc.h, RpcTlsConfig). Included only by the .cc files that speak TLS:
// it brings in Boost.Asio's SSL headers.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <optional>
#include <string>

namespace colend::node {

// TLS 1.3 only, usable both to dial and to accept; no session resumption or tickets (every
// connection runs the certificate checks); the consortium CA as the only trust anchor; our
// certificate and key; the peer's certificate required and verified both ways. nullopt with
// `error` naming the input (ca_pem, cert_pem, key_pem) when one does not load or the key does not
// match the certificate.
std::optional<boost::asio::ssl::context> MakeTlsContext(const std::string& ca_pem,
                                                        const std::string& cert_pem,
                                                        const std::string& key_pem,
                                                        std::string* error);

}  // namespace colend::node
