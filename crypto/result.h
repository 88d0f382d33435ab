// Status and Result<T>: how fallible calls report failure across module boundaries (no exceptions).
// An Error carries a stable machine-readable `code` (e.g. "bad-signature", "not-permitted"), a
// human message that names what was wrong, written by this project, and optionally a library's
// own text (OpenSSL's error queue, an exception's what()) in `detail`. Only `code` and `message`
// may reach consensus state (receipts, state values): a library upgrade must not change a state
// root. `detail` is for operators (logs, CLI and RPC errors) and appears in ToString().
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace colend {

struct Error {
  std::string code;     // stable, kebab-case reason code
  std::string message;  // for humans: what was wrong and where (the project's own words)
  std::string detail;   // a library's text, if any: never in consensus state
  // The project's own words only: what a receipt or other consensus state may hold.
  std::string OwnText() const { return code + ": " + message; }
  std::string ToString() const {
    return code + ": " + message + (detail.empty() ? "" : " (" + detail + ")");
  }
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}  // NOLINT: implicit on purpose
  static Status Ok() { return Status(); }
  bool ok() const { return !error_.has_value(); }
  const Error& error() const {
    assert(error_.has_value());
    return *error_;
  }
  std::string ToString() const { return ok() ? "ok" : error_->ToString(); }

 private:
  std::optional<Error> error_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT
  Result(Error error) : v_(std::move(error)) {}     // NOLINT
  Result(Status status) : v_(status.error()) {}    // NOLINT: only from a failed Status
  bool ok() const { return v_.index() == 0; }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }
  Status status() const { return ok() ? Status() : Status(error()); }

 private:
  std::variant<T, Error> v_;
};

inline Error MakeError(std::string code, std::string message) {
  return Error{std::move(code), std::move(message), {}};
}

}  // namespace colend

// Propagates a failed Status/Result from the current function.
#define COLEND_RETURN_IF_ERROR(expr)              \
  do {                                            \
    auto colend_status_ = (expr);                 \
    if (!colend_status_.ok()) return colend_status_.error(); \
  } while (0)
