// latentbus.v1.Broker over the gRPC callback API: Connect streams (one
// ConnectReactor each) and the unary SDK/admin RPCs, all delegating to a Broker.
//
// Authentication: every call's `authorization` metadata goes through the
// Authenticator; a refused stream or RPC ends with UNAUTHENTICATED. Admin RPCs
// (ListAgents, ListBridges, LoadBridge, UnloadBridge, GetStats) need an admin token
// (or authentication off); Publish and RouteQuery need a token that may act as the
// envelope's / request's sender_id (else PERMISSION_DENIED).
//
// Thread safety: stateless apart from the Broker, which is thread-safe.
#ifndef LATENTBUS_BROKER_SERVICE_H_
#define LATENTBUS_BROKER_SERVICE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "broker/auth.h"
#include "broker/broker.h"
#include "grpcpp/grpcpp.h"
#include "latentbus/v1/broker.grpc.pb.h"

namespace latentbus::broker {

// Connect and Publish are raw methods (bytes in, bytes out): the service parses their
// requests itself so a request that does not decode gets INVALID_ARGUMENT with the
// reason, not gRPC's silent end (Connect) or an empty UNIMPLEMENTED (Publish).
// Every other method is a typed callback method: a method added to the service must be
// added here too (else it stays the synchronous default, UNIMPLEMENTED).
using BrokerServiceBase = v1::Broker::WithRawCallbackMethod_Connect<
    v1::Broker::WithRawCallbackMethod_Publish<v1::Broker::WithCallbackMethod_RouteQuery<
        v1::Broker::WithCallbackMethod_ListAgents<v1::Broker::WithCallbackMethod_ListBridges<
            v1::Broker::WithCallbackMethod_LoadBridge<v1::Broker::WithCallbackMethod_UnloadBridge<
                v1::Broker::WithCallbackMethod_GetStats<v1::Broker::Service>>>>>>>>;

class BrokerService final : public BrokerServiceBase {
 public:
  // `broker` must outlive the service.
  explicit BrokerService(Broker* broker) : broker_(broker) {}

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* Connect(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* Publish(grpc::CallbackServerContext* context,
                                    const grpc::ByteBuffer* request,
                                    grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* RouteQuery(grpc::CallbackServerContext* context,
                                       const v1::RouteQueryRequest* request,
                                       v1::RouteQueryResponse* response) override;
  grpc::ServerUnaryReactor* ListAgents(grpc::CallbackServerContext* context,
                                       const v1::ListAgentsRequest* request,
                                       v1::ListAgentsResponse* response) override;
  grpc::ServerUnaryReactor* ListBridges(grpc::CallbackServerContext* context,
                                        const v1::ListBridgesRequest* request,
                                        v1::ListBridgesResponse* response) override;
  grpc::ServerUnaryReactor* LoadBridge(grpc::CallbackServerContext* context,
                                       const v1::LoadBridgeRequest* request,
                                       v1::LoadBridgeResponse* response) override;
  grpc::ServerUnaryReactor* UnloadBridge(grpc::CallbackServerContext* context,
                                         const v1::UnloadBridgeRequest* request,
                                         v1::UnloadBridgeResponse* response) override;
  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* context,
                                     const v1::GetStatsRequest* request,
                                     v1::GetStatsResponse* response) override;

 private:
  absl::StatusOr<std::shared_ptr<const Principal>> Authenticate(
      grpc::CallbackServerContext* context) const;
  // The caller's principal when it is an admin; else the refusal (counted).
  absl::StatusOr<std::shared_ptr<const Principal>> Admin(grpc::CallbackServerContext* context);
  grpc::ServerUnaryReactor* FinishWith(grpc::CallbackServerContext* context,
                                       const absl::Status& status);

  Broker* const broker_;
};

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_SERVICE_H_
