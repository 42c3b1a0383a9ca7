// Authentication and authorization: bearer tokens mapped to principals with ACLs.
//
// With no tokens configured authentication is off and every caller is the anonymous
// principal, which may do everything. With tokens, every call must carry
// `authorization: Bearer <token>`; the token's principal may register (and send as)
// the agent ids matching its `agents` globs, publish to topics matching `publish`,
// subscribe to topics matching `subscribe`, and call admin RPCs when `admin` is set.
// Tokens are compared in constant time.
//
// Thread safety: immutable after construction; safe for concurrent use.
#ifndef LATENTBUS_BROKER_AUTH_H_
#define LATENTBUS_BROKER_AUTH_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "broker/config.h"

namespace latentbus::broker {

struct Principal {
  std::string name;  // token name, "anonymous" when authentication is off
  bool anonymous = false;
  std::vector<std::string> agents;
  std::vector<std::string> publish;
  std::vector<std::string> subscribe;
  std::vector<std::string> send_to;  // agent ids its agents may message directly
  bool admin = false;
  bool metrics = false;

  bool MayActAs(absl::string_view agent_id) const;
  // Direct messages; replies to a request the recipient sent are always allowed.
  bool MaySendTo(absl::string_view agent_id) const;
  bool MayPublish(absl::string_view topic) const;
  bool MaySubscribe(absl::string_view topic) const;
  bool IsAdmin() const { return anonymous || admin; }
  bool MayScrapeMetrics() const { return IsAdmin() || metrics; }
};

class Authenticator {
 public:
  explicit Authenticator(const std::vector<TokenConfig>& tokens);

  bool enabled() const { return !principals_.empty(); }

  // `authorization` is the metadata value ("Bearer <token>"), empty when absent.
  // UNAUTHENTICATED (broker/errors.h) when authentication is on and the header is
  // missing, malformed or names no configured token.
  absl::StatusOr<std::shared_ptr<const Principal>> Authenticate(
      absl::string_view authorization) const;

 private:
  struct Entry {
    std::string token;
    std::shared_ptr<const Principal> principal;
  };
  std::vector<Entry> principals_;
  std::shared_ptr<const Principal> anonymous_;
};

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_AUTH_H_
