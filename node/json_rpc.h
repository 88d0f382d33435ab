// JSON-RPC 2.0 messages without HTTP (https://www.jsonrpc.org/specification): parsing a request
// without exceptions, bounded nesting, the reply objects and calling a handler. The HTTP server
// (rpc_server.cc) and HandleJsonRpc (rpc.h, also the fuzz target's entry) are built on it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "node/rpc.h"

namespace colend::node::json_rpc {

inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;
inline constexpr int kApplicationError = -32000;
// Arrays and objects nest at most this deep in a request (checked before parsing).
inline constexpr std::size_t kJsonDepthMax = 32;
// And hold at most this many values (counted before parsing: each costs a DOM node of ~70 bytes;
// the largest request a client sends, a submit, holds a handful).
inline constexpr std::size_t kJsonValuesMax = 100000;
// Parser messages quote the input; keep them short in responses.
inline constexpr std::size_t kParseDetailBytesMax = 200;

// value.dump() that replaces invalid UTF-8 instead of throwing.
std::string Dump(const nlohmann::json& value);
// Where and why `text` is not valid JSON, from nlohmann's parser without its exception prefix
// ("at line 1, column 19: syntax error ..."), cut at kParseDetailBytesMax.
std::string ParseErrorDetail(const std::string& text);
nlohmann::json ErrorReply(const nlohmann::json& id, int code, std::string message,
                          std::optional<std::string> data_code = std::nullopt);
// The reply object for a handler's outcome (application errors carry the stable reason code).
nlohmann::json ResultReply(const nlohmann::json& id, const Result<nlohmann::json>& result);
// Calls `handler`; an exception becomes an internal error (-32603).
nlohmann::json CallHandler(const RpcHandler& handler, const nlohmann::json& id,
                           const std::string& method, const nlohmann::json& params);

// A well-formed JSON-RPC request, ready for a handler.
struct ParsedRequest {
  nlohmann::json id;
  std::string method;
  nlohmann::json params;  // null when absent
};
// The request in `body`, or the error reply that answers it.
std::variant<ParsedRequest, nlohmann::json> ParseRequest(const std::string& body);

}  // namespace colend::node::json_rpc
