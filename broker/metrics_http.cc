#include "broker/metrics_http.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <list>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace latentbus::broker {
namespace {

struct Connection {
  int fd = -1;
  absl::Time deadline;
  std::string in;   // the request head so far
  std::string out;  // the response, once known
  size_t sent = 0;
  bool peer_gone = false;
};

std::string Response(int code, absl::string_view reason, absl::string_view content_type,
                     absl::string_view body, absl::string_view extra_headers = "") {
  return absl::StrCat("HTTP/1.1 ", code, " ", reason, "\r\nContent-Type: ", content_type,
                      "\r\nContent-Length: ", body.size(), "\r\nConnection: close\r\n",
                      extra_headers, "\r\n", body);
}

// The header's value in a request head ("" when absent); names compare case-blind.
std::string Header(absl::string_view head, absl::string_view name) {
  for (absl::string_view line : absl::StrSplit(head, "\r\n")) {
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(line.substr(0, colon)), name)) {
      return std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    }
  }
  return "";
}

}  // namespace

struct MetricsHttpServer::Impl {
  const Metrics* metrics = nullptr;
  Authorize authorize;
  int listen_fd = -1;
  int wake[2] = {-1, -1};  // Stop writes a byte: the loop returns
  std::thread thread;

  std::string Answer(absl::string_view head) const {
    const size_t line_end = head.find("\r\n");
    std::vector<absl::string_view> request_line =
        absl::StrSplit(head.substr(0, line_end), ' ', absl::SkipEmpty());
    if (request_line.size() != 3 || !absl::StartsWith(request_line[2], "HTTP/1.")) {
      return Response(400, "Bad Request", "text/plain", "not an HTTP/1.x request\n");
    }
    if (request_line[0] != "GET") {
      return Response(405, "Method Not Allowed", "text/plain", "only GET\n", "Allow: GET\r\n");
    }
    absl::string_view path = request_line[1].substr(0, request_line[1].find('?'));
    if (path != "/metrics") return Response(404, "Not Found", "text/plain", "try /metrics\n");
    if (authorize) {
      const std::string auth = Header(head, "authorization");
      const bool bearer = auth.size() > 7 && absl::EqualsIgnoreCase(auth.substr(0, 7), "bearer ");
      if (!bearer || !authorize(absl::StripAsciiWhitespace(absl::string_view(auth).substr(7)))) {
        return Response(401, "Unauthorized", "text/plain", "metrics need the admin token\n",
                        "WWW-Authenticate: Bearer\r\n");
      }
    }
    return Response(200, "OK", "text/plain; version=0.0.4", metrics->RenderPrometheus());
  }

  // Reads what `c` sent; sets c.out when the head is complete (or too large).
  void Read(Connection& c) const {
    char buf[4096];
    for (;;) {
      const ssize_t n = recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        c.in.append(buf, static_cast<size_t>(n));
        if (c.in.size() > kMaxRequestBytes) {
          c.out = Response(431, "Request Header Fields Too Large", "text/plain",
                           "request head over 8 KiB\n");
          return;
        }
        if (size_t end = c.in.find("\r\n\r\n"); end != std::string::npos) {
          c.out = Answer(absl::string_view(c.in).substr(0, end + 2));
          return;
        }
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        c.peer_gone = true;  // closed below
      }
      return;
    }
  }

  // Writes what it can; true when done (all sent or the peer is gone).
  static bool Write(Connection& c) {
    while (c.sent < c.out.size()) {
      const ssize_t n = send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
      if (n > 0) {
        c.sent += static_cast<size_t>(n);
        continue;
      }
      return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
    }
    return true;
  }

  void Loop() {
    std::list<Connection> open;  // oldest first
    std::vector<pollfd> fds;
    for (;;) {
      fds.clear();
      fds.push_back({wake[0], POLLIN, 0});
      fds.push_back({listen_fd, POLLIN, 0});
      for (const Connection& c : open) {
        fds.push_back({c.fd, static_cast<short>(c.out.empty() ? POLLIN : POLLOUT), 0});
      }
      const int ready = poll(fds.data(), fds.size(), 200);
      if (ready < 0 && errno != EINTR) break;
      if (fds[0].revents != 0) break;  // Stop
      const absl::Time now = absl::Now();
      size_t i = 2;
      for (auto it = open.begin(); it != open.end(); ++i) {
        Connection& c = *it;
        const short revents = fds[i].revents;
        bool done = false;
        if (revents & (POLLERR | POLLNVAL)) {
          done = true;
        } else if (c.out.empty() && (revents & (POLLIN | POLLHUP))) {
          Read(c);
          done = c.peer_gone;
        }
        if (!done && !c.out.empty()) done = Write(c);
        if (!done && now > c.deadline) done = true;  // too slow to ask or to read the answer
        if (done) {
          close(c.fd);
          it = open.erase(it);
        } else {
          ++it;
        }
      }
      if (fds[1].revents & POLLIN) {
        for (;;) {
          const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break;
          if (open.size() >= kMaxConnections) {
            close(open.front().fd);
            open.pop_front();
          }
          open.emplace_back();
          open.back().fd = fd;
          open.back().deadline = now + kRequestTimeout;
        }
      }
    }
    for (Connection& c : open) close(c.fd);
  }
};

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    const std::string& address, const Metrics* metrics, Authorize authorize) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address '", address, "' is not host:port"));
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
      rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address '", address, "': ", gai_strerror(rc)));
  }
  auto impl = std::make_unique<Impl>();
  impl->metrics = metrics;
  impl->authorize = std::move(authorize);
  int error = 0;
  for (addrinfo* a = found; a != nullptr && impl->listen_fd < 0; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    const int yes = 1;  // SO_REUSEADDR only: a port another process listens on stays refused
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 128) == 0) {
      impl->listen_fd = fd;
    } else {
      error = errno;
      close(fd);
    }
  }
  freeaddrinfo(found);
  if (impl->listen_fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on metrics address ", address, ": ", std::strerror(error)));
  }
  sockaddr_storage bound = {};
  socklen_t length = sizeof bound;
  getsockname(impl->listen_fd, reinterpret_cast<sockaddr*>(&bound), &length);
  port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                           : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  if (pipe2(impl->wake, O_CLOEXEC) != 0) {
    close(impl->listen_fd);
    return absl::ResourceExhaustedError("metrics server: no pipe");
  }
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->Loop(); });
  return std::unique_ptr<MetricsHttpServer>(new MetricsHttpServer(std::move(impl), port));
}

MetricsHttpServer::MetricsHttpServer(std::unique_ptr<Impl> impl, int port)
    : impl_(std::move(impl)), port_(port) {}

MetricsHttpServer::~MetricsHttpServer() { Stop(); }

void MetricsHttpServer::Stop() {
  if (!impl_) return;
  const char byte = 1;
  (void)!write(impl_->wake[1], &byte, 1);
  if (impl_->thread.joinable()) impl_->thread.join();
  close(impl_->listen_fd);
  close(impl_->wake[0]);
  close(impl_->wake[1]);
  impl_.reset();
}

}  // namespace latentbus::broker
