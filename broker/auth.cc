#include "broker/auth.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "broker/errors.h"
#include "broker/glob.h"

namespace latentbus::broker {
namespace {

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

}  // namespace

bool Principal::MayActAs(absl::string_view agent_id) const {
  return anonymous || GlobMatchAny(agents, agent_id);
}
bool Principal::MayPublish(absl::string_view topic) const {
  return anonymous || GlobMatchAny(publish, topic);
}
bool Principal::MaySendTo(absl::string_view agent_id) const {
  return anonymous || GlobMatchAny(send_to, agent_id);
}
bool Principal::MaySubscribe(absl::string_view topic) const {
  return anonymous || GlobMatchAny(subscribe, topic);
}

Authenticator::Authenticator(const std::vector<TokenConfig>& tokens) {
  auto anonymous = std::make_shared<Principal>();
  anonymous->name = "anonymous";
  anonymous->anonymous = true;
  anonymous_ = std::move(anonymous);
  for (const TokenConfig& t : tokens) {
    auto p = std::make_shared<Principal>();
    p->name = t.name;
    p->agents = t.agents;
    p->publish = t.publish;
    p->subscribe = t.subscribe;
    p->send_to = t.send_to;
    p->admin = t.admin;
    p->metrics = t.metrics;
    principals_.push_back(Entry{t.token, std::move(p)});
  }
}

absl::StatusOr<std::shared_ptr<const Principal>> Authenticator::Authenticate(
    absl::string_view authorization) const {
  if (!enabled()) return anonymous_;
  if (authorization.empty()) {
    return BrokerError(v1::UNAUTHENTICATED, "missing 'authorization: Bearer <token>' metadata");
  }
  constexpr absl::string_view kBearer = "bearer ";
  if (authorization.size() <= kBearer.size() ||
      !absl::EqualsIgnoreCase(authorization.substr(0, kBearer.size()), kBearer)) {
    return BrokerError(v1::UNAUTHENTICATED, "authorization metadata is not 'Bearer <token>'");
  }
  absl::string_view token = absl::StripAsciiWhitespace(authorization.substr(kBearer.size()));
  std::shared_ptr<const Principal> found;
  for (const Entry& e : principals_) {  // no early exit: timing does not reveal which
    if (ConstantTimeEquals(e.token, token)) found = e.principal;
  }
  if (!found) return BrokerError(v1::UNAUTHENTICATED, "unknown token");
  return found;
}

}  // namespace latentbus::broker
