// The stream machinery behind Client (client.h): one Connect stream at a time, the reader
// thread that handles what the broker sends, the sends, requests and subscriptions waiting
// for an answer, and reconnecting (with Backoff) when the stream breaks. Internal to
// agent/client: only client.cc and client_state.cc include it.
//
// Thread safety: every field marked ABSL_GUARDED_BY(mu) is read and written under mu; a
// connection's writes are serialised by its write_mu.
#ifndef LATENTBUS_AGENT_CLIENT_CLIENT_STATE_H_
#define LATENTBUS_AGENT_CLIENT_CLIENT_STATE_H_

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/client/client.h"
#include "agent/client/write_watchdog.h"
#include "grpcpp/grpcpp.h"
#include "latentbus/v1/broker.grpc.pb.h"

namespace latentbus::agent {

using ConnectStream = grpc::ClientReaderWriter<v1::AgentFrame, v1::BrokerFrame>;

// One Connect stream and its context (the context must outlive the stream).
struct BrokerConnection {
  grpc::ClientContext context;
  std::unique_ptr<ConnectStream> stream;
  absl::Mutex write_mu;  // one writer at a time
};

struct Client::State {
  struct PendingSend {
    v1::Envelope envelope;
    uint64_t order = 0;
    const BrokerConnection* written_on = nullptr;
    bool want_result = true;  // revision 2: whether the Send asks for a SendResult
    bool done = false;
    absl::StatusOr<v1::SendResult> result = absl::UnknownError("no answer yet");
  };
  struct PendingRequest {
    // The agent the request was addressed to, the only one whose reply is taken (empty
    // for a request to a topic: the broker admits only the subscribers it went to).
    std::string addressee;
    bool done = false;
    absl::StatusOr<v1::Envelope> reply = absl::UnknownError("no reply yet");
  };
  struct PendingSubscription {
    std::string topic;
    bool subscribe = true;
    bool done = false;
    absl::Status status;
  };

  // First member, so destroyed last: every thread that writes is joined by then.
  WriteWatchdog write_watchdog;
  ClientOptions options;
  std::vector<std::string> addresses;  // options.address, split at commas

  // The broker in use: the reader thread moves to another on failover.
  mutable absl::Mutex endpoint_mu;
  size_t address_index ABSL_GUARDED_BY(endpoint_mu) = 0;
  std::shared_ptr<grpc::Channel> channel ABSL_GUARDED_BY(endpoint_mu);
  std::shared_ptr<v1::Broker::Stub> stub ABSL_GUARDED_BY(endpoint_mu);
  // Points the channel and stub at addresses[index].
  absl::Status UseAddress(size_t index);
  // Moves to the next address of the list (failover); false with a single address.
  bool UseNextAddress();
  // The broker said GoAway on the current stream: when it ends, reconnect to the next
  // broker of the list first, not to the one leaving.
  std::atomic<bool> broker_going_away{false};
  std::shared_ptr<grpc::Channel> Channel() const;
  std::shared_ptr<v1::Broker::Stub> Stub() const;
  std::atomic<uint64_t> next_seq{1};

  mutable absl::Mutex mu;
  std::shared_ptr<BrokerConnection> connection ABSL_GUARDED_BY(mu);
  // The stream Open is registering on (a reconnect's), so that Close can cancel it.
  std::shared_ptr<BrokerConnection> opening ABSL_GUARDED_BY(mu);
  bool connected ABSL_GUARDED_BY(mu) = false;
  bool closed ABSL_GUARDED_BY(mu) = false;
  absl::Status fatal ABSL_GUARDED_BY(mu);
  uint32_t send_credits ABSL_GUARDED_BY(mu) = 0;
  uint32_t credits_to_return ABSL_GUARDED_BY(mu) = 0;
  v1::Registered registered ABSL_GUARDED_BY(mu);
  int reconnects ABSL_GUARDED_BY(mu) = 0;
  std::set<std::string> topics ABSL_GUARDED_BY(mu);
  uint64_t next_order ABSL_GUARDED_BY(mu) = 0;
  absl::flat_hash_map<std::string, PendingSend> sends ABSL_GUARDED_BY(mu);
  absl::flat_hash_map<std::string, PendingRequest> requests ABSL_GUARDED_BY(mu);
  absl::flat_hash_map<uint64_t, PendingSubscription> subscriptions ABSL_GUARDED_BY(mu);
  std::deque<v1::Envelope> inbox ABSL_GUARDED_BY(mu);
  uint32_t protocol ABSL_GUARDED_BY(mu) = 1;  // of the current stream
  // Revision 2: acks waiting for a frame to ride on, and since when.
  std::vector<v1::Ack> pending_acks ABSL_GUARDED_BY(mu);
  absl::Time acks_waiting_since ABSL_GUARDED_BY(mu);
  // Revision 2: deliveries acked by our Reply (sender '\0' message_id), so that the
  // application's Ack of them writes nothing; bounded, oldest forgotten first.
  absl::flat_hash_set<std::string> replied ABSL_GUARDED_BY(mu);
  std::deque<std::string> replied_order ABSL_GUARDED_BY(mu);
  // Deliveries acked (sender '\0' message_id), for dropping their repeats (a redelivery
  // whose ack was lost with a broker); bounded by options.dedup_window, oldest forgotten
  // first. A Reply (revision 2) acks too; the keys only a Reply put there, in
  // acked_by_reply (a subset of `replied`), leave again when that Reply fails.
  absl::flat_hash_set<std::string> acked ABSL_GUARDED_BY(mu);
  std::deque<std::string> acked_order ABSL_GUARDED_BY(mu);
  absl::flat_hash_set<std::string> acked_by_reply ABSL_GUARDED_BY(mu);
  void NoteAcked(std::string key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  // Removes from the inbox the deliveries of the same (sender, message id) as `first` and
  // returns them (with dedup on: they are repeats of a message the application acked).
  std::vector<v1::Envelope> TakeQueuedRepeats(const v1::Envelope& first);

  std::thread reader;
  std::thread ack_writer;  // revision 2: writes acks that found nothing to ride on

  // Writes `frame` with `seq` (a fresh one when 0) on `c`; false when the stream is
  // broken (the reader notices and reconnects). A write flow control still holds at
  // `deadline` (InfiniteFuture: options.write_timeout from now) cancels the stream
  // (WriteWatchdog), which the reader reconnects like any lost stream.
  bool Write(BrokerConnection* c, v1::AgentFrame frame, uint64_t seq = 0,
             absl::Time deadline = absl::InfiniteFuture());

  std::shared_ptr<BrokerConnection> Current();

  // Waits until the channel is connected. `fail_fast`: the first failed connection
  // attempt (refused, unreachable, TLS handshake) is the answer at once; else retries
  // until `timeout`.
  absl::Status AwaitConnected(absl::Duration timeout, bool fail_fast);

  // The least Open waits for Registered once the stream is open (also on a reconnect,
  // whose `timeout` is the backoff): a loaded broker may take a while to answer.
  static constexpr absl::Duration kMinRegisterWait = absl::Seconds(5);

  // Opens a stream and registers; returns the connection and the Registered answer. A
  // broker that does not answer Register within max(timeout, kMinRegisterWait) is
  // Unavailable (the stream is cancelled).
  absl::StatusOr<std::pair<std::shared_ptr<BrokerConnection>, v1::Registered>> Open(
      absl::Duration timeout, const std::vector<std::string>& topic_list, bool fail_fast);

  // Installs a fresh connection and resends what was never answered.
  void Install(std::shared_ptr<BrokerConnection> c, const v1::Registered& reg, bool reconnect);

  // Registers `envelope` (stamped) as a pending send and writes it, waiting up to
  // `deadline` for a send credit; `want_result` = false (a revision-2 request) asks for no
  // SendResult. Refuses an envelope over the broker's size limit without writing it.
  absl::Status Submit(v1::Envelope envelope, absl::Time deadline, bool want_result);
  // Acks `delivered` and gives its credit back: at once (revision 1), or queued to ride
  // on the next frame (revision 2).
  void AckFrames(BrokerConnection* c, const v1::Envelope& delivered);
  // Revision 2: moves the waiting acks onto `frame`.
  void TakePendingAcks(v1::AgentFrame* frame) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  // Revision 2: remembers that a reply acked (sender_id, message_id).
  void NoteReplied(const std::string& sender_id, const std::string& message_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  // The reply failed (it may never have left): an Ack of the request is written again.
  void ForgetReplied(const std::string& sender_id, const std::string& message_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  // The ack_writer thread's loop, until closed.
  void AckWriterLoop();
  // Writes the waiting acks in a frame of their own (false: none were waiting), the
  // write given until `deadline` (Write).
  bool FlushAcks(absl::Time deadline = absl::InfiniteFuture());
  // Writes the ack of `delivered` (revision 2: queued to ride on the next frame; 1: an
  // Ack frame now, and the delivery credits due), with no dedup bookkeeping: a repeat's.
  void WriteAck(BrokerConnection* c, const v1::Envelope& delivered);

  void Handle(BrokerConnection* c, const v1::BrokerFrame& frame);

  void Fail(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);

  void ReadLoop();

  absl::Status ChangeSubscription(const std::string& topic, bool subscribe, absl::Duration timeout);

  // Waits (mu held) until `ready` or closed/fatal or `deadline`; the status to return
  // when not ready.
  absl::Status AwaitReady(const std::function<bool()>& ready, absl::Time deadline,
                          absl::string_view what) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
};

}  // namespace latentbus::agent

#endif  // LATENTBUS_AGENT_CLIENT_CLIENT_STATE_H_
