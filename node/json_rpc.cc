// JSON-RPC 2.0 messages without HTTP (json_rpc.h): a request parsed without exceptions and
// with bounded nesting, the reply objects, and the handler call that turns an exception into
// an internal error. Nothing a client sends can throw out of here.
#include "node/json_rpc.h"

#include <exception>
#include <utility>

namespace colend::node::json_rpc {
namespace {

using nlohmann::json;

// A SAX consumer that only records why parsing failed: json::parse(..., false) discards the
// reason, and we want to tell the client where its JSON broke without using exceptions.
class ParseErrorCapture : public nlohmann::json_sax<json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception& error) override {
    message = error.what();
    return false;
  }
  std::string message;
};

// How deep arrays and objects nest in `body`, and about how many values it holds (containers
// plus commas plus one: at least the count of values), outside strings, scanned before any DOM is
// built: a DOM of 100,000 nested arrays is destroyed and copied recursively and overflows the
// stack, and 8 MiB of "[{},{},...]" is 2.8 million objects, some 200 MB of DOM.
struct JsonShape {
  std::size_t depth = 0;
  std::size_t values = 1;
};
JsonShape ShapeOf(const std::string& body) {
  JsonShape shape;
  std::size_t depth = 0;
  bool in_string = false, escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      shape.depth = std::max(shape.depth, ++depth);
      ++shape.values;
    } else if (c == ',') {
      ++shape.values;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return shape;
}

}  // namespace

std::string ParseErrorDetail(const std::string& body) {
  ParseErrorCapture capture;
  try {
    (void)json::sax_parse(body, &capture);
  } catch (const std::exception& e) {
    capture.message = e.what();
  }
  std::string detail = capture.message.empty() ? "malformed JSON" : capture.message;
  // "[json.exception.parse_error.101] parse error at line 1, ..." → "at line 1, ..."
  if (auto pos = detail.find("] "); detail.starts_with("[json.exception") && pos != detail.npos) {
    detail.erase(0, pos + 2);
  }
  if (detail.starts_with("parse error ")) detail.erase(0, 12);
  if (detail.size() > kParseDetailBytesMax) detail = detail.substr(0, kParseDetailBytesMax) + "...";
  return detail;
}

// dump() throws on invalid UTF-8 by default; replace it instead.
std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

json ErrorReply(const json& id, int code, std::string message,
                std::optional<std::string> data_code) {
  json error = {{"code", code}, {"message", std::move(message)}};
  if (data_code) error["data"] = {{"code", *data_code}};
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(error)}};
}

// The reply object for a handler's outcome.
json ResultReply(const json& id, const Result<json>& result) {
  if (result.ok()) return {{"jsonrpc", "2.0"}, {"id", id}, {"result", result.value()}};
  const Error& error = result.error();
  // Standard codes speak for themselves; application errors carry the stable reason code.
  if (error.code == "method-not-found") return ErrorReply(id, kMethodNotFound, error.message);
  if (error.code == "invalid-params") return ErrorReply(id, kInvalidParams, error.message);
  if (error.code == "internal-error") return ErrorReply(id, kInternalError, error.message);
  return ErrorReply(id, kApplicationError, error.message, error.code);
}

json CallHandler(const RpcHandler& handler, const json& id, const std::string& method,
                 const json& params) {
  std::optional<Result<json>> result;
  try {
    result.emplace(handler(method, params));
  } catch (const std::exception& e) {
    return ErrorReply(id, kInternalError, std::string("internal error: ") + e.what());
  }
  return ResultReply(id, *result);
}


// The request in `body`, or the error reply that answers it.
std::variant<ParsedRequest, json> ParseRequest(const std::string& body) {
  const JsonShape shape = ShapeOf(body);
  if (shape.depth > kJsonDepthMax) {
    return ErrorReply(nullptr, kInvalidRequest,
                      "JSON nests deeper than " + std::to_string(kJsonDepthMax) + " levels");
  }
  if (shape.values > kJsonValuesMax) {
    return ErrorReply(nullptr, kInvalidRequest,
                      "JSON holds more than " + std::to_string(kJsonValuesMax) + " values");
  }
  json request = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded()) {
    return ErrorReply(nullptr, kParseError, "parse error: " + ParseErrorDetail(body));
  }
  if (request.is_array()) {
    return ErrorReply(nullptr, kInvalidRequest, "batch requests are not supported");
  }
  if (!request.is_object()) {
    return ErrorReply(nullptr, kInvalidRequest, "request must be a JSON object");
  }
  const auto id = request.find("id");
  if (id == request.end()) {
    return ErrorReply(nullptr, kInvalidRequest, "missing id (notifications are not supported)");
  }
  // A number that is not a whole number of at most 64 bits would be parsed as a double and
  // echoed back rounded (1e+20 for 100000000000000000001), and the client could not match the
  // reply: such ids are refused (JSON-RPC 2.0 says numbers SHOULD NOT have fractional parts).
  if (!id->is_string() && !id->is_number_integer() && !id->is_null()) {
    return ErrorReply(nullptr, kInvalidRequest,
                      id->is_number() ? "id must be a whole number of at most 64 bits, a string "
                                        "or null"
                                      : "id must be a string, number or null");
  }
  const auto version = request.find("jsonrpc");
  if (version == request.end() || !version->is_string() || *version != "2.0") {
    return ErrorReply(*id, kInvalidRequest, "jsonrpc must be \"2.0\"");
  }
  const auto method = request.find("method");
  if (method == request.end() || !method->is_string()) {
    return ErrorReply(*id, kInvalidRequest, "method must be a string");
  }
  const auto params = request.find("params");
  if (params != request.end() && !params->is_object() && !params->is_array()) {
    return ErrorReply(*id, kInvalidRequest, "params must be an object or an array");
  }
  // Absent params reach the handler as null.
  return ParsedRequest{*id, method->get<std::string>(),
                       params == request.end() ? json() : std::move(*params)};
}

}  // namespace colend::node::json_rpc
