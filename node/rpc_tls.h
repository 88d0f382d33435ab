// The TLS context of the JSON-RPC server and client (rpc.h, RpcTlsConfig). Included only by
// rpc_server.cc and rpc_client.cc: it brings in Boost.Asio's SSL headers.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <optional>
#include <string>

#include "node/rpc.h"

namespace colend::node {

// TLS 1.3 only, no session resumption (every connection runs the certificate checks), the
// consortium CA as the only trust anchor, our certificate and key, and the peer's certificate
// required and verified (a server requires a client certificate). nullopt with `error` set when
// a PEM does not load or the key does not match the certificate.
std::optional<boost::asio::ssl::context> MakeTlsContext(const RpcTlsConfig& config, bool server,
                                                        std::string* error);

}  // namespace colend::node
