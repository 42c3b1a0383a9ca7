// The agent process's core: one frozen LLM (agent/llm) on one broker connection
// (agent/client). `latentbus agent` runs it; `latentbus bench e2e` and the tests drive it.
//
// Sending content (Send / Request): the agent asks the broker how each recipient takes
// it (RouteQuery, cached briefly), then
// - latent: prefill only; hidden states at the tap layer (BOS row dropped: it is an
//   attention sink, not content), quantized by the codec (default int4/g32) into a
//   LatentPacket;
// - text: the model writes the message itself (generation), as a text-only agent would.
// Both go in one envelope when a topic mixes recipients. NEEDS_TEXT from the broker
// (routing changed since the query) is answered by generating the text and resending
// with the same message id.
//
// Reading a delivery (Read): the receiver's prompt (node/prompt.h) with the soft tokens
// as an embedding segment, or the text; greedy generation.
//
// Serving (Serve): reads every delivery; replies with the output when asked; a delivery
// whose metadata names `forward_to` is relayed: its text becomes this agent's own message
// to that agent (a request), and the answer goes back to the original sender with the
// timings of both hops in its metadata (keys "lb.*", see kMeta* below).
//
// Thread safety: Send/Request/Read may run concurrently (the model and the client are
// thread-safe); Serve runs one delivery at a time.
#ifndef LATENTBUS_AGENT_NODE_AGENT_H_
#define LATENTBUS_AGENT_NODE_AGENT_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/client/client.h"
#include "agent/llm/model.h"
#include "codec/encoding.h"
#include "latentbus/v1/broker.pb.h"
#include "telemetry/tracer.h"

namespace latentbus::agent::node {

struct AgentOptions {
  ClientOptions client;  // address, agent_id, token, TLS, topics (model is filled in)
  std::string model_path;
  llm::LoadOptions load;
  int tap_layer = -1;  // -1: num_layers / 3
  std::string send_encoding = "int4/g32";
  std::string receive_encoding = "int8/g32";  // ModelSpec.preferred_encoding
  uint32_t max_soft_tokens = 512;
  // System text; empty by default: the small models tend to repeat a system prompt.
  std::string role;
  std::string instruction = "What is the message about? Answer in one sentence.";
  int max_new_tokens = 48;   // replies
  int text_max_tokens = 64;  // text-path messages the model writes
  absl::Duration route_cache_ttl = absl::Seconds(5);
  // Tracing (telemetry/tracer.h; null: off). Not owned; must outlive the agent. Spans:
  // latentbus.agent.send (sender prefill, encode, text writing) whose context the
  // envelope carries, and latentbus.agent.receive under the delivered traceparent
  // (decode, prefill, generation); a reply or relay continues the received trace.
  telemetry::Tracer* tracer = nullptr;
};

// Metadata keys an agent sets on what it sends and replies.
inline constexpr char kMetaInstruction[] = "instruction";  // read by the receiver
inline constexpr char kMetaForwardTo[] = "forward_to";     // relay request
inline constexpr char kMetaClass[] = "class";              // class of the relayed message

struct SendReport {
  std::string message_id;
  std::vector<v1::RecipientOutcome> recipients;
  bool sent_latent = false;
  bool sent_text = false;
  uint32_t soft_tokens = 0;
  size_t latent_bytes = 0;  // LatentPacket wire bytes
  size_t text_bytes = 0;
  std::string text;      // what the model wrote (text path)
  double encode_ms = 0;  // prefill to the tap layer
  double codec_ms = 0;   // quantize + serialize
  double write_ms = 0;   // text path: the model writing the message
  double send_ms = 0;    // broker round trip (SendResult), or the whole request
};

struct ReadReport {
  v1::PayloadForm form = v1::PAYLOAD_FORM_UNSPECIFIED;
  uint32_t soft_tokens = 0;
  int64_t prompt_tokens = 0;
  double decode_ms = 0;    // packet -> floats
  double prefill_ms = 0;   // the model reading the prompt (first output token after it)
  double generate_ms = 0;  // whole generation
  std::string output;
};

class Agent {
 public:
  static absl::StatusOr<std::unique_ptr<Agent>> Start(AgentOptions options);
  ~Agent();

  const llm::Model& model() const { return *model_; }
  Client& client() { return *client_; }
  const v1::ModelSpec& spec() const { return spec_; }

  // Sends `content` to `to` as `message_class`; `metadata` goes along.
  // `trace`: the context the send's span hangs under (invalid: a new trace).
  absl::StatusOr<SendReport> Send(const v1::Address& to, const std::string& content,
                                  v1::MessageClass message_class,
                                  const std::map<std::string, std::string>& metadata = {},
                                  const telemetry::SpanContext& trace = {});

  // As Send, to one agent, waiting for its reply.
  absl::StatusOr<std::pair<SendReport, v1::Envelope>> Request(
      const std::string& to, const std::string& content, v1::MessageClass message_class,
      const std::map<std::string, std::string>& metadata, absl::Duration timeout,
      const telemetry::SpanContext& trace = {});

  // Reads a delivered envelope with `instruction` (the envelope's own, when it has one).
  absl::StatusOr<ReadReport> Read(const v1::Envelope& delivered) const;

  // Receive loop until the client is closed (OK) or fails for good.
  absl::Status Serve();

  // Encodes `content` as this agent's latent packet (prefill + codec).
  absl::StatusOr<v1::LatentPacket> EncodeLatent(const std::string& content,
                                                SendReport* report) const;
  // Has the model write `content` as a message (at most `max_tokens`, default the
  // options' text_max_tokens; `exact`: exactly that many, through end-of-turn tokens).
  absl::StatusOr<std::string> WriteText(const std::string& content, SendReport* report,
                                        int max_tokens = -1, bool exact = false) const;

 private:
  Agent(AgentOptions options, std::unique_ptr<llm::Model> model, std::unique_ptr<Client> client,
        v1::ModelSpec spec, codec::Encoding send_encoding, bool adds_bos);
  // When `result` is NEEDS_TEXT and `e` has no text yet: forgets the cached route, has the
  // model write the text into `e` and returns true (send again, same message id).
  absl::StatusOr<bool> AddTextIfNeeded(const absl::Status& result, const v1::Address& to,
                                       v1::MessageClass message_class, const std::string& content,
                                       v1::Envelope* e, SendReport* report, telemetry::Span* span);
  // WriteText, recorded as latentbus.sender.write under `span`.
  absl::StatusOr<std::string> WriteTraced(const std::string& content, SendReport* report,
                                          telemetry::Span* span) const;
  absl::StatusOr<std::vector<v1::RouteDecision>> Route(const v1::Address& to,
                                                       v1::MessageClass message_class);
  void ForgetRoute(const v1::Address& to, v1::MessageClass message_class);
  // The envelope for `content`; records the sender's phases under `span`.
  absl::StatusOr<v1::Envelope> Compose(const v1::Address& to, const std::string& content,
                                       v1::MessageClass message_class,
                                       const std::map<std::string, std::string>& metadata,
                                       SendReport* report, telemetry::Span* span);
  // The send span (its context goes into the envelope), and its end with the outcome.
  telemetry::Span StartSend(const v1::Address& to, v1::MessageClass message_class,
                            const telemetry::SpanContext& trace);
  void EndSend(telemetry::Span& span, const SendReport& report, const absl::Status& status) const;
  void Handle(const v1::Envelope& delivered);
  // The receive span of `delivered`, under its traceparent.
  telemetry::Span StartReceive(const v1::Envelope& delivered) const;
  // Read's phases (decode, prefill, generation) under `span`; Read ran from `start` to `end`.
  void RecordRead(const telemetry::Span& span, absl::Time start, absl::Time end,
                  const ReadReport& report) const;

  const AgentOptions options_;
  std::unique_ptr<llm::Model> model_;
  std::unique_ptr<Client> client_;
  const v1::ModelSpec spec_;
  const codec::Encoding send_encoding_;
  const bool adds_bos_;  // the model prepends BOS to encoded text (its row is dropped)

  struct CachedRoute {
    std::vector<v1::RouteDecision> decisions;
    absl::Time expires;
  };
  absl::Mutex route_mu_;
  std::map<std::string, CachedRoute> routes_ ABSL_GUARDED_BY(route_mu_);
};

// The ModelSpec an agent registers for `model` tapping `layer`.
v1::ModelSpec MakeModelSpec(const llm::ModelInfo& info, int layer,
                            const codec::Encoding& receive_encoding, uint32_t max_soft_tokens);

}  // namespace latentbus::agent::node

#endif  // LATENTBUS_AGENT_NODE_AGENT_H_
