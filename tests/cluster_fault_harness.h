// Pieces the cluster fault tests share: the broker CLI as a child process over JetStream,
// what the applications saw (History) and the checks run on it afterwards, and senders
// that retry until their message is confirmed.
//
// Thread safety: History is filled by one thread at a time (a sender thread owns its
// `confirmed` part until joined; the receiving loop owns the rest).
#ifndef LATENTBUS_TESTS_CLUSTER_FAULT_HARNESS_H_
#define LATENTBUS_TESTS_CLUSTER_FAULT_HARNESS_H_

#include <sys/types.h>

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "agent/client/client.h"

namespace latentbus::testing {

// `latentbus broker --cluster URLS` on a fixed port, so that clients reconnect to its
// successor; output appended to `log`.
class BrokerProcess {
 public:
  BrokerProcess(int port, std::string nats_urls, std::string log, int replicas = 1,
                std::vector<std::string> extra_args = {});
  ~BrokerProcess();  // SIGKILL; removes the port file (the log stays)

  // Starts the broker and waits until it listens (its --port-file appears).
  bool Start();
  // Sends `sig` and reaps the process (SIGTERM: it drains first; up to 30 s, then SIGKILL).
  void Stop(int sig);
  std::string address() const;
  const std::string& log() const { return log_; }

 private:
  const int port_;
  const std::string nats_urls_;
  const std::string log_;
  const int replicas_;
  const std::vector<std::string> extra_args_;
  pid_t pid_ = -1;
};

// What the applications saw, and the checks on it (after every thread that fills it has
// been joined).
struct History {
  // Message ids confirmed (an OK SendResult), per sender id in the order confirmed.
  std::map<std::string, std::vector<std::string>> confirmed;
  std::map<std::string, int> delivered;  // message id -> times the application got it
  std::set<std::string> acked;           // ids the application acked
  // Deliveries the application got again after acking them (the SDK must drop those).
  int repeats_after_ack = 0;
  // (sender, id) of each first delivery (delivery_attempt 1), in arrival order.
  std::vector<std::pair<std::string, std::string>> first_deliveries;

  // Records delivery `m` and acks it through `client`.
  void Deliver(agent::Client& client, const v1::Envelope& m);
  size_t ConfirmedCount() const;
  // Confirmed messages never delivered.
  size_t Lost() const;
  // Deliveries beyond the first of each message.
  size_t Repeats() const;
  // First deliveries of a sender's confirmed messages that came after one the sender had
  // confirmed later: JetStream hands a recipient's messages out in stream order, and a
  // sender that waits for each confirmation appends them in its order.
  size_t OrderViolations() const;
  // Prints the counts.
  void Report(const std::string& name) const;
};

// A client `id` of the brokers `address` (one, or a comma-separated list) with `credits`
// delivery credits and a quick reconnect (50 ms, at most 500 ms); null, with a test
// failure, when it cannot connect.
std::unique_ptr<agent::Client> ConnectClient(const std::string& address, const std::string& id,
                                             uint32_t credits = 32);

// A text message for `agent` with id `id`.
v1::Envelope To(const std::string& agent, const std::string& id);

// Receives (recording and acking each delivery) until every confirmed message arrived or
// `timeout` passed.
void Collect(agent::Client& c, History* h, absl::Duration timeout);

// Sends `count` messages "<prefix><i>" to `to`, one at a time, each retried with the same
// id (every 50 ms) until confirmed or `stop` is set, with `pause` between messages; appends
// the confirmed ids to `confirmed`. Returns how often each refusal reason (wire::ReasonOf's
// name) was seen.
std::map<std::string, int> SendConfirmed(agent::Client& sender, const std::string& to,
                                         const std::string& prefix, int count,
                                         std::vector<std::string>* confirmed,
                                         const std::atomic<bool>& stop,
                                         absl::Duration pause = absl::ZeroDuration());

}  // namespace latentbus::testing

#endif  // LATENTBUS_TESTS_CLUSTER_FAULT_HARNESS_H_
