// One TLS connection of the peer transport, either direction: dialing or accepting, the
// handshake and its deadline, the certificate and hello checks (node/transport.cc says which),
// framing and the bounded send queue.
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <exception>
#include <utility>

#include "crypto/x509.h"
#include "node/hello.h"
#include "node/transport_internal.h"

namespace colend::node::transport_detail {

std::string Connection::Describe() const {
  std::string who = peer_id_.empty() ? remote_ : peer_id_ + " (" + remote_ + ")";
  return (direction_ == Direction::kOutbound ? "outbound to " : "inbound from ") + who;
}

void Connection::StartDeadline(std::int64_t ms) {
  handshake_timer_.expires_after(std::chrono::milliseconds(ms));
  handshake_timer_.async_wait([self = shared_from_this(), ms](const error_code& error) {
    if (error || self->closed_ || self->authenticated_) return;
    if (!self->tcp_connected_) {  // a dial that never connected: retried quietly
      self->impl_->OnDialFailed(self->peer_id_, "connect timed out");
      return self->Close("");
    }
    // Silent or stalled dialers may be a flood: one line a minute per kind, not one each.
    const std::string what = self->spoke_ || self->direction_ == Direction::kOutbound
                                 ? "handshake timed out after "
                                 : "sent nothing within ";
    const std::string line = "connection from " + self->remote_address_ + ": " + what +
                             std::to_string(ms) + " ms; closing";
    if (self->direction_ == Direction::kOutbound) {
      return self->Close(self->Describe() + ": " + what + std::to_string(ms) + " ms");
    }
    self->Close(self->impl_->FirstRejectionInAWhile(line) ? line : "");
  });
}

void Connection::Dial(const std::string& host, std::uint16_t port) {
  remote_ = host + ":" + std::to_string(port);
  StartDeadline(impl_->config.handshake_timeout_ms);
  resolver_.async_resolve(
      host, std::to_string(port),
      [self = shared_from_this()](const error_code& error, tcp::resolver::results_type results) {
        if (self->closed_) return;
        if (error) {
          self->impl_->OnDialFailed(self->peer_id_, "cannot resolve: " + error.message());
          return self->Close("");
        }
        asio::async_connect(self->socket(), results,
                            [self](const error_code& connect_error, const tcp::endpoint& endpoint) {
                              if (self->closed_) return;
                              if (connect_error) {
                                self->impl_->OnDialFailed(self->peer_id_, connect_error.message());
                                return self->Close("");
                              }
                              self->tcp_connected_ = true;
                              self->remote_ = EndpointText(endpoint);
                              self->Handshake(ssl::stream_base::client);
                            });
      });
}

void Connection::StartInbound() {
  error_code error;
  const tcp::endpoint remote = socket().remote_endpoint(error);
  remote_ = error ? "unknown" : EndpointText(remote);
  remote_address_ = error ? "unknown" : AddressText(remote.address());
  tcp_connected_ = true;
  // A dialer that speaks TLS sends its ClientHello at once: wait a short while for the first
  // byte, then give the handshake its full time.
  StartDeadline(impl_->config.first_byte_timeout_ms);
  socket().async_wait(tcp::socket::wait_read, [self = shared_from_this()](const error_code& wait) {
    if (self->closed_) return;
    if (wait) return self->Close("");
    self->spoke_ = true;
    self->StartDeadline(self->impl_->config.handshake_timeout_ms);
    self->Handshake(ssl::stream_base::server);
  });
}

void Connection::Handshake(ssl::stream_base::handshake_type type) {
  error_code error;
  socket().set_option(tcp::no_delay(true), error);
  socket().set_option(asio::socket_base::keep_alive(true), error);
  // The callback runs inside the handshake, while `this` is kept alive by the handshake handler.
  stream_.set_verify_callback(
      [this](bool preverified, ssl::verify_context& context) {
        return VerifyCertificate(preverified, context);
      },
      error);
  if (error) return Close(Describe() + ": cannot set verify callback: " + error.message());
  stream_.async_handshake(type, [self = shared_from_this()](const error_code& handshake_error) {
    if (self->closed_) return;
    if (handshake_error) {
      const std::string what = self->reject_reason_.empty()
                                   ? ": TLS handshake failed: " + handshake_error.message()
                                   : " rejected: " + self->reject_reason_;
      if (self->direction_ == Direction::kOutbound) return self->Close(self->Describe() + what);
      // An outsider may fail handshakes as fast as it connects: one line a minute per address
      // and reason, not one each.
      const std::string line = "inbound from " + self->remote_address_ + what;
      return self->Close(self->impl_->FirstRejectionInAWhile(line) ? line + " (one line a minute)"
                                                                   : "");
    }
    self->OnTlsUp();
  });
}

// Called by OpenSSL for each certificate of the peer's chain, root first. The chain check
// (`preverified`) is OpenSSL's against the consortium CA alone; at the leaf we add membership.
bool Connection::VerifyCertificate(bool preverified, ssl::verify_context& context) {
  X509_STORE_CTX* store = context.native_handle();
  if (!preverified) {
    const int error = X509_STORE_CTX_get_error(store);
    reject_reason_ = std::string("certificate does not chain to the consortium CA (") +
                     X509_verify_cert_error_string(error) + ")";
    return false;
  }
  if (X509_STORE_CTX_get_error_depth(store) != 0) return true;
  std::string reason;
  const auto member = impl_->MemberOfCertificate(X509_STORE_CTX_get_current_cert(store), &reason);
  const bool wrong_peer = member && direction_ == Direction::kOutbound && *member != peer_id_;
  if (wrong_peer) reason = "certificate belongs to member " + *member + ", not the member dialed";
  if (!member || wrong_peer) {
    reject_reason_ = reason;
    // Without an error set, OpenSSL would tell the peer "internal error".
    X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
    return false;
  }
  return true;
}

// TLS is up. Identify the peer again from the negotiated session (independent of the callback
// having run), then exchange hellos.
void Connection::OnTlsUp() {
  SSL* ssl = stream_.native_handle();
  if (SSL_get_verify_result(ssl) != X509_V_OK) {
    return Close(Describe() + " rejected: peer certificate not verified");
  }
  X509* certificate = SSL_get1_peer_certificate(ssl);
  std::string reason;
  auto member = impl_->MemberOfCertificate(certificate, &reason);
  X509_free(certificate);
  if (!member) {
    // A removed member's node keeps dialing (with backoff): say so once a minute, not each time.
    return Close(impl_->FirstRejectionInAWhile(reason) ? Describe() + " rejected: " + reason : "");
  }
  if (direction_ == Direction::kOutbound && *member != peer_id_) {
    return Close(Describe() + " rejected: certificate belongs to member " + *member);
  }
  peer_id_ = *member;
  Send(EncodeFrame(EncodeHello(impl_->genesis_hex, impl_->config.self_id)), 0, 0);
  ReadHeader();
}

std::string Connection::ReadFailure(const error_code& error) const {
  if (error == asio::error::eof || error == ssl::error::stream_truncated) {
    return Describe() + " closed by peer";
  }
  if (direction_ == Direction::kOutbound && error.category() == asio::error::get_ssl_category() &&
      error.message().find("handshake failure") != std::string::npos) {
    // TLS 1.3: the peer checks our certificate after our side of the handshake and answers with
    // an alert. It admits only members of the epoch it follows: say so, once a minute.
    const std::string reason = Describe() + ": the peer refused our certificate (" +
                               error.message() + "); is " + impl_->config.self_id +
                               " a member of the peer's current membership epoch?";
    return impl_->FirstRejectionInAWhile(reason) ? reason : "";
  }
  return Describe() + ": read failed: " + error.message();
}

void Connection::ReadHeader() {
  asio::async_read(
      stream_, asio::buffer(read_header_),
      [self = shared_from_this()](const error_code& error, std::size_t) {
        if (self->closed_) return;
        if (error) return self->Close(self->ReadFailure(error));
        std::uint32_t length = 0;
        for (unsigned char byte : self->read_header_) length = (length << 8) | byte;
        const std::uint32_t limit =
            self->authenticated_ ? self->impl_->config.frame_bytes_max : kHelloBytesMax;
        if (length > limit) {
          return self->Close(self->Describe() + ": frame of " + std::to_string(length) +
                             " bytes exceeds the limit of " + std::to_string(limit) + "; closing");
        }
        self->read_body_.assign(length, '\0');
        self->ReadBody();
      });
}

void Connection::ReadBody() {
  asio::async_read(stream_, asio::buffer(read_body_),
                   [self = shared_from_this()](const error_code& error, std::size_t) {
                     if (self->closed_) return;
                     if (error) return self->Close(self->ReadFailure(error));
                     std::string frame = std::move(self->read_body_);
                     self->read_body_.clear();
                     self->OnFrame(std::move(frame));
                     if (!self->closed_) self->ReadHeader();
                   });
}

void Connection::OnFrame(std::string frame) {
  if (!authenticated_) return OnHello(frame);
  // Frames arriving on our outbound connection are delivered too: the peer is authenticated.
  if (impl_->DropInbound(peer_id_)) return;
  if (!impl_->stopped && impl_->on_frame) impl_->on_frame(peer_id_, std::move(frame));
}

void Connection::OnHello(const std::string& frame) {
  auto hello = ParseHello(frame);
  if (!hello) return Close(Describe() + ": malformed hello; closing");
  if (hello->genesis_hex != impl_->genesis_hex) {
    return Close("peer " + peer_id_ + " presented genesis " + Printable(hello->genesis_hex) +
                 ", ours is " + impl_->genesis_hex);
  }
  if (hello->member != peer_id_) {
    return Close(Describe() + ": hello member id does not match certificate (hello says '" +
                 Printable(hello->member) + "')");
  }
  authenticated_ = true;
  handshake_timer_.cancel();
  impl_->OnAuthenticated(shared_from_this());
}

void Connection::Send(std::shared_ptr<const std::string> wire, std::size_t frames_max,
                      std::uint64_t bytes_max) {
  if (closed_) return;
  auto full = [&] {
    return (frames_max > 0 && write_queue_.size() >= frames_max) ||
           (bytes_max > 0 && queued_bytes_ + wire->size() > bytes_max);
  };
  // The front frame may be half written; the oldest droppable one is right behind it.
  const std::size_t oldest = writing_ ? 1 : 0;
  while (full() && oldest < write_queue_.size()) {
    queued_bytes_ -= write_queue_[oldest]->size();
    write_queue_.erase(write_queue_.begin() + static_cast<std::ptrdiff_t>(oldest));
    if (!drop_logged_) {
      drop_logged_ = true;
      impl_->Log(Describe() + ": send queue full (" + std::to_string(frames_max) + " frames or " +
                 std::to_string(bytes_max) + " bytes); dropping oldest");
    }
  }
  queued_bytes_ += wire->size();
  write_queue_.push_back(std::move(wire));
  if (!writing_) WriteNext();
}

void Connection::WriteNext() {
  writing_ = true;
  asio::async_write(stream_, asio::buffer(*write_queue_.front()),
                    [self = shared_from_this()](const error_code& error, std::size_t) {
                      if (self->closed_) return;
                      if (error) {
                        return self->Close(self->Describe() + ": write failed: " + error.message());
                      }
                      self->queued_bytes_ -= self->write_queue_.front()->size();
                      self->write_queue_.pop_front();
                      if (self->write_queue_.empty()) {
                        self->writing_ = false;
                        self->drop_logged_ = false;
                        return;
                      }
                      self->WriteNext();
                    });
}

void Connection::Close(const std::string& reason) {
  if (closed_) return;
  closed_ = true;
  if (!reason.empty()) impl_->Log(reason);
  handshake_timer_.cancel();
  resolver_.cancel();
  error_code ignored;
  socket().shutdown(tcp::socket::shutdown_both, ignored);
  socket().close(ignored);
  write_queue_.clear();
  queued_bytes_ = 0;
  impl_->OnClosed(shared_from_this());
}


}  // namespace colend::node::transport_detail
