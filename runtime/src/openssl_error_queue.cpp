// Clears OpenSSL's error queue before every TLS read, write and handshake
// step that libcaf_openssl 0.17.6 makes.
//
// Why: OpenSSL keeps one error queue per thread, and SSL_get_error() reads
// it to classify a return value. CAF's session code drains the queue only
// inside a log statement, so with logging below INFO the errors of a
// session that failed (a peer of another CA, a plaintext client) or that a
// client closed without close_notify (every `eventsource cluster status`
// over TLS) stay queued. The next SSL_read on the multiplexer thread, on a
// healthy link between members, returns "would block", SSL_get_error()
// sees the stale error and CAF drops that link (remote_link_unreachable).
// OpenSSL's rule is that the queue must be empty before an I/O call; this
// is what the callers that follow it do (libpq, curl).
//
// How: these definitions live in the executable (es_runtime is a static
// library), which the dynamic linker searches before libssl, so
// libcaf_openssl's calls land here; each clears the queue and calls
// libssl's function, found with dlsym(RTLD_NEXT). networking.cpp refers
// to `openssl_error_queue_cleared` so that the linker keeps this file.
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "next_symbol.hpp"

using es::detail::next_symbol;

extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  static auto real = next_symbol<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  static auto real = next_symbol<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_connect(SSL* ssl) {
  static auto real = next_symbol<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return real(ssl);
}

int SSL_accept(SSL* ssl) {
  static auto real = next_symbol<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  return real(ssl);
}

} // extern "C"

namespace es::detail {

bool openssl_error_queue_cleared() {
  return true;
}

} // namespace es::detail
