// JSON-RPC requests (node/rpc.h HandleJsonRpc: the RPC server's core without HTTP), with a
// handler that echoes its params for most methods, fails with the code and message given in an
// array's first two strings for "fail", and throws for "throw". Properties: no exception escapes;
// the response is an object with jsonrpc "2.0" and an id, and exactly one of result and error; an
// error has an integer code and a string message; a result is the echoed params (null when
// absent); a request that is an object with a string/number/null id gets that id back; the
// response survives the server's Dump (invalid UTF-8 replaced) and parses back.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "node/rpc.h"
#include "tests/fuzz/fixture.h"

namespace {

using nlohmann::json;

colend::Result<json> Handler(const std::string& method, const json& params) {
  if (method == "throw") throw std::runtime_error("handler threw");
  if (method == "fail") {
    std::string code = "app-error", message = "failed";
    if (params.is_array() && params.size() >= 2 && params[0].is_string() && params[1].is_string()) {
      code = params[0].get<std::string>();
      message = params[1].get<std::string>();
    }
    return colend::MakeError(code, message);
  }
  return params;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  const json response = colend::node::HandleJsonRpc(body, Handler);
  FUZZ_CHECK(response.is_object());
  FUZZ_CHECK(response.contains("jsonrpc") && response["jsonrpc"] == "2.0");
  FUZZ_CHECK(response.contains("id"));
  const bool has_result = response.contains("result"), has_error = response.contains("error");
  FUZZ_CHECK(has_result != has_error);
  if (has_error) {
    const json& error = response["error"];
    FUZZ_CHECK(error.is_object());
    FUZZ_CHECK(error.contains("code") && error["code"].is_number_integer());
    FUZZ_CHECK(error.contains("message") && error["message"].is_string());
  }
  const std::string dumped = response.dump(-1, ' ', false, json::error_handler_t::replace);
  const json back = json::parse(dumped, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(!back.is_discarded() && back.is_object());
  // What the request says, parsed independently (the server checks nesting depth first; a
  // request it refuses for depth is not compared here).
  const bool too_deep = has_error && response["error"]["message"].get<std::string>().starts_with(
                                         "JSON nests deeper");
  if (too_deep) return 0;  // parsing it here could exhaust the stack (why the server refuses it)
  const json request = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!request.is_discarded() && request.is_object() && request.contains("id") &&
      (request["id"].is_string() || request["id"].is_number() || request["id"].is_null())) {
    if (has_result || response["error"]["code"] != -32600) FUZZ_CHECK(response["id"] == request["id"]);
    if (has_result) {
      FUZZ_CHECK(request.contains("method") && request["method"].is_string());
      const std::string method = request["method"].get<std::string>();
      FUZZ_CHECK(method != "throw" && method != "fail");
      FUZZ_CHECK(response["result"] == (request.contains("params") ? request["params"] : json()));
    }
  } else {
    FUZZ_CHECK(has_error);
  }
  return 0;
}
