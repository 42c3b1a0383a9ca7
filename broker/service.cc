#include "broker/service.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "broker/connect_reactor.h"
#include "broker/errors.h"
#include "broker/grpc_status.h"
#include "broker/validation.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "spdlog/spdlog.h"

namespace latentbus::broker {

absl::StatusOr<std::shared_ptr<const Principal>> BrokerService::Authenticate(
    grpc::CallbackServerContext* context) const {
  const auto& metadata = context->client_metadata();
  auto it = metadata.find("authorization");
  absl::string_view header;
  if (it != metadata.end()) header = absl::string_view(it->second.data(), it->second.size());
  return broker_->auth().Authenticate(header);
}

grpc::ServerUnaryReactor* BrokerService::FinishWith(grpc::CallbackServerContext* context,
                                                    const absl::Status& status) {
  if (!status.ok()) {
    broker_->metrics().Increment("latentbus_rejects_total",
                                 {{"reason", ReasonName(ReasonOf(status))}});
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

absl::StatusOr<std::shared_ptr<const Principal>> BrokerService::Admin(
    grpc::CallbackServerContext* context) {
  absl::StatusOr<std::shared_ptr<const Principal>> principal = Authenticate(context);
  if (!principal.ok()) return principal.status();
  if (!(*principal)->IsAdmin()) {
    return BrokerError(v1::PERMISSION_DENIED,
                       absl::StrCat("token '", (*principal)->name, "' is not an admin token"));
  }
  return principal;
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* BrokerService::Connect(
    grpc::CallbackServerContext* context) {
  return ConnectReactor::Create(broker_, Authenticate(context), context->peer());
}

grpc::ServerUnaryReactor* BrokerService::Publish(grpc::CallbackServerContext* context,
                                                 const grpc::ByteBuffer* request_bytes,
                                                 grpc::ByteBuffer* response_bytes) {
  absl::StatusOr<std::shared_ptr<const Principal>> principal = Authenticate(context);
  if (!principal.ok()) return FinishWith(context, principal.status());
  auto request = std::make_shared<v1::PublishRequest>();
  grpc::ByteBuffer copy = *request_bytes;  // Deserialize consumes its buffer
  if (grpc::Status parsed =
          grpc::SerializationTraits<v1::PublishRequest>::Deserialize(&copy, request.get());
      !parsed.ok()) {
    return FinishWith(context, BrokerError(v1::INVALID_ARGUMENT,
                                           absl::StrCat("the request did not decode as "
                                                        "latentbus.v1.PublishRequest (",
                                                        parsed.error_message().empty()
                                                            ? "bad wire format or invalid UTF-8"
                                                            : parsed.error_message(),
                                                        ")")));
  }
  const std::string& sender = request->envelope().sender_id();
  if (absl::Status s = ValidateName("envelope.sender_id", sender); !s.ok()) {
    return FinishWith(context, s);
  }
  if (!(*principal)->MayActAs(sender)) {
    return FinishWith(context, BrokerError(v1::PERMISSION_DENIED,
                                           absl::StrCat("token '", (*principal)->name,
                                                        "' may not send as '", sender, "'")));
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  broker_->router().Send(
      SendContext{sender, *principal}, request->envelope(),
      [reactor, response_bytes](SendOutcome outcome) {
        v1::PublishResponse response;
        response.set_message_id(outcome.message_id);
        for (v1::RecipientOutcome& r : outcome.accepted) *response.add_recipients() = std::move(r);
        if (!outcome.refused.ok()) {
          v1::Error error = ToErrorProto(outcome.refused, outcome.message_id);
          for (const std::string& a : outcome.refused_agents) error.add_agent_ids(a);
          *response.mutable_error() = std::move(error);
        } else if (!outcome.errors.empty()) {
          *response.mutable_error() = std::move(outcome.errors.front());
        }
        bool own = false;
        reactor->Finish(grpc::SerializationTraits<v1::PublishResponse>::Serialize(
            response, response_bytes, &own));
      });
  return reactor;
}

grpc::ServerUnaryReactor* BrokerService::RouteQuery(grpc::CallbackServerContext* context,
                                                    const v1::RouteQueryRequest* request,
                                                    v1::RouteQueryResponse* response) {
  absl::StatusOr<std::shared_ptr<const Principal>> principal = Authenticate(context);
  if (!principal.ok()) return FinishWith(context, principal.status());
  if (!request->sender_id().empty() && !(*principal)->MayActAs(request->sender_id())) {
    return FinishWith(context,
                      BrokerError(v1::PERMISSION_DENIED,
                                  absl::StrCat("token '", (*principal)->name, "' may not act as '",
                                               request->sender_id(), "'")));
  }
  *response = broker_->router().Query(*request, **principal);
  return FinishWith(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* BrokerService::ListAgents(grpc::CallbackServerContext* context,
                                                    const v1::ListAgentsRequest*,
                                                    v1::ListAgentsResponse* response) {
  if (auto p = Admin(context); !p.ok()) return FinishWith(context, p.status());
  *response = broker_->ListAgents();
  return FinishWith(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* BrokerService::ListBridges(grpc::CallbackServerContext* context,
                                                     const v1::ListBridgesRequest*,
                                                     v1::ListBridgesResponse* response) {
  if (auto p = Admin(context); !p.ok()) return FinishWith(context, p.status());
  *response = broker_->ListBridges();
  return FinishWith(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* BrokerService::LoadBridge(grpc::CallbackServerContext* context,
                                                    const v1::LoadBridgeRequest* request,
                                                    v1::LoadBridgeResponse* response) {
  if (auto p = Admin(context); !p.ok()) return FinishWith(context, p.status());
  // Loading may read and parse a large artifact; it runs on this RPC's thread, which
  // gRPC's callback executor tolerates for rare admin calls.
  absl::StatusOr<BridgeInfo> info = broker_->bridges().Load(*request);
  if (!info.ok()) return FinishWith(context, info.status());
  const BridgeVerdict verdict = broker_->policy().JudgeDefault(*info);
  if (verdict.carries_latents) {
    spdlog::info("bridge loaded id={} src={} dst={}: {}", info->id, info->src.ToString(),
                 info->dst.ToString(), verdict.Describe());
  } else {
    spdlog::warn("bridge loaded id={} src={} dst={}, but {}", info->id, info->src.ToString(),
                 info->dst.ToString(), verdict.Describe());
  }
  *response->mutable_bridge() = BridgeInfoToProto(*info);
  return FinishWith(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* BrokerService::UnloadBridge(grpc::CallbackServerContext* context,
                                                      const v1::UnloadBridgeRequest* request,
                                                      v1::UnloadBridgeResponse*) {
  if (auto p = Admin(context); !p.ok()) return FinishWith(context, p.status());
  absl::Status s = broker_->bridges().Remove(request->bridge_id());
  if (s.ok()) spdlog::info("bridge unloaded id={}", request->bridge_id());
  return FinishWith(context, s);
}

grpc::ServerUnaryReactor* BrokerService::GetStats(grpc::CallbackServerContext* context,
                                                  const v1::GetStatsRequest*,
                                                  v1::GetStatsResponse* response) {
  if (auto p = Admin(context); !p.ok()) return FinishWith(context, p.status());
  *response = broker_->GetStats();
  return FinishWith(context, absl::OkStatus());
}

}  // namespace latentbus::broker
