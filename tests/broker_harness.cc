#include "tests/broker_harness.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "codec/packet.h"
#include "codec/packet_proto.h"
#include "grpcpp/generic/generic_stub.h"

namespace latentbus::testing {

broker::BrokerConfig TestConfig() {
  broker::BrokerConfig config;
  config.listen_address = "127.0.0.1:0";
  config.metrics_address = "";
  config.limits.rate_per_second = 0;
  config.drain_timeout_seconds = 5;
  return config;
}

v1::ModelSpec MakeSpec(const std::string& model_id, uint32_t hidden, uint32_t embedding,
                       const std::string& preferred) {
  v1::ModelSpec spec;
  spec.set_model_id(model_id);
  spec.set_fingerprint(absl::StrCat("fp-", model_id));
  spec.set_family("llama");
  spec.set_hidden_size(hidden);
  spec.set_embedding_size(embedding);
  spec.set_tap_layer(3);
  spec.set_num_layers(8);
  spec.set_max_soft_tokens(16);
  *spec.mutable_preferred_encoding() = codec::EncodingToProto(*codec::ParseEncoding(preferred));
  return spec;
}

v1::LatentPacket MakeLatent(const v1::ModelSpec& spec, uint32_t rows, const std::string& encoding) {
  codec::Tensor tensor;
  tensor.shape = {rows, spec.hidden_size()};
  tensor.data.resize(size_t{rows} * spec.hidden_size());
  for (size_t i = 0; i < tensor.data.size(); ++i) {
    tensor.data[i] = std::sin(0.37f * static_cast<float>(i)) * 2.0f;
  }
  absl::StatusOr<codec::Packet> packet = codec::Encode(tensor, *codec::ParseEncoding(encoding));
  packet->model_id = spec.model_id();
  packet->model_fingerprint = spec.fingerprint();
  packet->space = codec::Space::kHidden;
  packet->layer = spec.tap_layer();
  return codec::ToProto(*std::move(packet));
}

v1::Envelope ToAgent(const std::string& message_id, const std::string& agent_id,
                     const std::string& text) {
  v1::Envelope e;
  e.set_message_id(message_id);
  e.mutable_recipient()->set_agent_id(agent_id);
  e.set_message_class(v1::MESSAGE_CLASS_CONTEXT);
  e.set_text(text);
  return e;
}

v1::Envelope ToTopic(const std::string& message_id, const std::string& topic,
                     const std::string& text) {
  v1::Envelope e = ToAgent(message_id, "", text);
  e.mutable_recipient()->set_topic(topic);
  return e;
}

TestBridge::TestBridge(std::string id, const v1::ModelSpec& src, const v1::ModelSpec& dst,
                       double cosine) {
  info_.id = std::move(id);
  info_.kind = "affine";
  info_.src = broker::ModelKey{src.model_id(), src.fingerprint()};
  info_.dst = broker::ModelKey{dst.model_id(), dst.fingerprint()};
  info_.src_layer = src.tap_layer();
  info_.src_dim = src.hidden_size();
  info_.dst_dim = dst.embedding_size();
  info_.fidelity[broker::kFidelityCosine] = cosine;
}

absl::StatusOr<std::vector<codec::Tensor>> TestBridge::Apply(
    absl::Span<const codec::Tensor* const> batch) const {
  std::vector<codec::Tensor> out;
  for (const codec::Tensor* input : batch) {
    const codec::Tensor& in = *input;
    codec::Tensor t;
    const size_t rows = in.rows();
    t.shape = {static_cast<uint32_t>(rows), info_.dst_dim};
    t.data.assign(rows * info_.dst_dim, 0.0f);
    for (size_t r = 0; r < rows; ++r) {
      for (size_t c = 0; c < info_.dst_dim && c < in.width(); ++c) {
        t.data[r * info_.dst_dim + c] = in.data[r * in.width() + c];
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

TestBroker::TestBroker(broker::BrokerConfig config, broker::BridgeLoader loader) {
  broker::BrokerOptions options;
  options.config = std::move(config);
  options.bridge_loader = std::move(loader);
  absl::StatusOr<std::unique_ptr<broker::BrokerServer>> server =
      broker::BrokerServer::Start(std::move(options));
  if (!server.ok()) {
    fprintf(stderr, "broker failed to start: %s\n", server.status().ToString().c_str());
    abort();
  }
  server_ = *std::move(server);
}

std::string TestBroker::address() const { return absl::StrCat("127.0.0.1:", server_->port()); }

std::shared_ptr<grpc::Channel> TestBroker::Channel() const {
  return grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
}

std::unique_ptr<v1::Broker::Stub> TestBroker::Stub() const {
  return v1::Broker::NewStub(Channel());
}

void TestBroker::AddBridge(const std::string& id, const v1::ModelSpec& src,
                           const v1::ModelSpec& dst, double cosine) {
  absl::Status s =
      broker().bridges().Add(std::make_shared<TestBridge>(id, src, dst, cosine), false);
  if (!s.ok()) abort();
}

TestAgent::TestAgent(std::shared_ptr<grpc::Channel> channel, const std::string& token)
    : stub_(v1::Broker::NewStub(std::move(channel))) {
  if (!token.empty()) context_.AddMetadata("authorization", "Bearer " + token);
  stream_ = stub_->Connect(&context_);
  reader_ = std::thread([this] { ReadLoop(); });
}

TestAgent::~TestAgent() {
  context_.TryCancel();
  if (reader_.joinable()) reader_.join();
}

void TestAgent::ReadLoop() {
  v1::BrokerFrame frame;
  while (stream_->Read(&frame)) {
    absl::MutexLock lock(&mu_);
    frames_.push_back(std::move(frame));
    frame.Clear();
  }
  grpc::Status status = stream_->Finish();
  absl::MutexLock lock(&mu_);
  status_ = status;
  ended_ = true;
}

bool TestAgent::Write(const v1::AgentFrame& frame) {
  absl::MutexLock lock(&write_mu_);
  return stream_->Write(frame);
}

absl::StatusOr<v1::Registered> TestAgent::Register(const std::string& agent_id,
                                                   const v1::ModelSpec& spec,
                                                   const std::vector<std::string>& topics,
                                                   uint32_t credits, uint32_t protocol) {
  v1::AgentFrame frame;
  frame.set_seq(1);
  v1::Register* reg = frame.mutable_register_();
  reg->set_agent_id(agent_id);
  if (!spec.model_id().empty()) *reg->mutable_model() = spec;  // empty: text-only client
  reg->set_initial_credits(credits);
  reg->set_protocol(protocol);
  for (const std::string& t : topics) reg->add_topics(t);
  Write(frame);
  std::optional<v1::BrokerFrame> reply = Next();
  if (!reply) {
    grpc::Status s = AwaitEnd(absl::Seconds(1));
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
  }
  if (!reply->has_registered()) {
    return absl::InternalError(absl::StrCat("expected Registered, got ", reply->DebugString()));
  }
  return reply->registered();
}

uint64_t TestAgent::Send(const v1::Envelope& envelope) {
  v1::AgentFrame frame;
  uint64_t seq;
  {
    absl::MutexLock lock(&write_mu_);
    seq = ++next_seq_;
  }
  frame.set_seq(seq);
  *frame.mutable_send()->mutable_envelope() = envelope;
  Write(frame);
  return seq;
}

void TestAgent::Ack(const std::string& sender_id, const std::string& message_id) {
  v1::AgentFrame frame;
  frame.mutable_ack()->set_sender_id(sender_id);
  frame.mutable_ack()->set_message_id(message_id);
  Write(frame);
}

uint64_t TestAgent::Subscribe(const std::string& topic) {
  v1::AgentFrame frame;
  uint64_t seq;
  {
    absl::MutexLock lock(&write_mu_);
    seq = ++next_seq_;
  }
  frame.set_seq(seq);
  frame.mutable_subscribe()->set_topic(topic);
  Write(frame);
  return seq;
}

void TestAgent::Credit(uint32_t credits) {
  v1::AgentFrame frame;
  frame.mutable_credit()->set_credits(credits);
  Write(frame);
}

void TestAgent::CloseWrites() {
  absl::MutexLock lock(&write_mu_);
  stream_->WritesDone();
}

std::optional<v1::BrokerFrame> TestAgent::Next(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  absl::MutexLock lock(&mu_);
  for (;;) {
    if (!mu_.AwaitWithDeadline(absl::Condition(this, &TestAgent::Ready), deadline)) {
      return std::nullopt;
    }
    if (frames_.empty()) return std::nullopt;  // ended
    v1::BrokerFrame frame = std::move(frames_.front());
    frames_.pop_front();
    if (frame.has_credit()) continue;
    return frame;
  }
}

std::optional<v1::BrokerFrame> TestAgent::NextOf(v1::BrokerFrame::FrameCase kind,
                                                 absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return std::nullopt;
    std::optional<v1::BrokerFrame> frame = Next(left);
    if (!frame) return std::nullopt;
    if (frame->frame_case() == kind) return frame;
  }
}

bool TestAgent::NothingWithin(absl::Duration quiet) {
  if (Next(quiet).has_value()) return false;
  // Silence only counts while the stream is alive: an ended stream also yields nothing.
  absl::MutexLock lock(&mu_);
  return !ended_;
}

grpc::Status TestAgent::AwaitEnd(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ended = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return ended_; };
  if (!mu_.AwaitWithDeadline(absl::Condition(&ended), absl::Now() + timeout)) {
    return grpc::Status(grpc::StatusCode::UNKNOWN, "stream did not end in time");
  }
  return status_;
}

absl::StatusOr<std::vector<codec::Tensor>> SlowBridge::Apply(
    absl::Span<const codec::Tensor* const> batch) const {
  absl::SleepFor(delay_);
  return inner_.Apply(batch);
}

v1::Error ExpectError(TestAgent& agent, v1::ErrorReason reason) {
  std::optional<v1::BrokerFrame> f = agent.NextOf(v1::BrokerFrame::kError);
  EXPECT_TRUE(f.has_value()) << "no Error frame";
  if (!f) return {};
  EXPECT_EQ(f->error().reason(), reason) << f->DebugString();
  return f->error();
}

v1::Envelope ExpectDelivery(TestAgent& agent) {
  std::optional<v1::BrokerFrame> f = agent.NextOf(v1::BrokerFrame::kDeliver);
  EXPECT_TRUE(f.has_value()) << "no Deliver frame";
  return f ? f->deliver().envelope() : v1::Envelope();
}

void ExpectNothingDeliveredBefore(TestAgent& sender, TestAgent& recipient,
                                  const std::string& recipient_id, const std::string& marker_id) {
  sender.Send(ToAgent(marker_id, recipient_id, "marker"));
  std::optional<v1::BrokerFrame> sent;
  do {  // earlier sends' results may still be waiting to be read
    sent = sender.NextOf(v1::BrokerFrame::kSendResult);
  } while (sent.has_value() && sent->send_result().message_id() != marker_id);
  ASSERT_TRUE(sent.has_value()) << "the marker " << marker_id << " was not accepted";
  std::optional<v1::BrokerFrame> f = recipient.NextOf(v1::BrokerFrame::kDeliver);
  ASSERT_TRUE(f.has_value()) << "the marker " << marker_id << " never came";
  EXPECT_EQ(f->deliver().envelope().message_id(), marker_id)
      << "delivered before the marker: " << f->deliver().envelope().DebugString();
  recipient.Ack(f->deliver().envelope().sender_id(), f->deliver().envelope().message_id());
}

bool AwaitNothingPending(TestBroker& broker, const std::string& recipient) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (broker.broker().delivery().Pending(recipient) != 0) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

google::protobuf::Timestamp In(absl::Duration d) {
  google::protobuf::Timestamp ts;
  int64_t ns = absl::ToUnixNanos(absl::Now() + d);
  ts.set_seconds(ns / 1000000000);
  ts.set_nanos(static_cast<int>(ns % 1000000000));
  return ts;
}

std::string ReflectionListServices(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::CompletionQueue cq;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
      stub.PrepareCall(&ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag = nullptr;
  bool ok = false;
  auto step = [&](int id) {
    return cq.Next(&tag, &ok) && ok && tag == reinterpret_cast<void*>(id);
  };
  call->StartCall(reinterpret_cast<void*>(1));
  if (!step(1)) return "";
  const char request_bytes[] = {0x3a, 0x00};
  grpc::Slice slice(request_bytes, sizeof request_bytes);
  grpc::ByteBuffer request(&slice, 1);
  call->Write(request, reinterpret_cast<void*>(2));
  if (!step(2)) return "";
  grpc::ByteBuffer response;
  call->Read(&response, reinterpret_cast<void*>(3));
  if (!step(3)) return "";
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return "";
  std::string bytes;
  for (const grpc::Slice& s : slices)
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  ctx.TryCancel();
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(4));
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return bytes;
}

}  // namespace latentbus::testing
