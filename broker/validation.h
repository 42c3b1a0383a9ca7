// Validation of everything an agent hands the broker, before any routing.
//
// Limits and the reasons they fail with (broker/errors.h):
//   names (agent ids, topics, message ids): 1..256 bytes, printable ASCII without
//     spaces .......................................................... INVALID_ARGUMENT
//   ModelSpec: model_id and fingerprint set, hidden/embedding size in [1, 65536],
//     max_soft_tokens in [1, 65536], tap_layer < num_layers (when set), a valid
//     preferred encoding ................................................ INVALID_ARGUMENT
//   Envelope: serialized size <= max_message_bytes ..................... MESSAGE_TOO_LARGE
//     message_id set, recipient (agent or topic) or a correlation id set, text or
//     latent present ..................................................... INVALID_ARGUMENT
//   LatentPacket vs the sender's ModelSpec: known dtype/rotation/space, model id and
//     fingerprint equal to the registration, space HIDDEN at the tap layer, shape
//     exactly [T, hidden_size] with 1 <= T <= max_soft_tokens, lengths and checksum
//     (codec::ValidatePacket), finite values (decoded once: the values are what
//     validation returns, broker/accepted_latent.h) .......................... INVALID_PACKET
//
// Thread safety: pure functions.
#ifndef LATENTBUS_BROKER_VALIDATION_H_
#define LATENTBUS_BROKER_VALIDATION_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "broker/accepted_latent.h"
#include "codec/packet.h"
#include "latentbus/v1/envelope.pb.h"
#include "latentbus/v1/model.pb.h"

namespace latentbus::broker {

inline constexpr size_t kMaxNameBytes = 256;
inline constexpr uint32_t kMaxWidth = 65536;
inline constexpr uint32_t kMaxSoftTokens = 65536;
// A registration's ModelSpec, serialized: the registry keeps one per agent id for as long
// as it is retained (an hour after it leaves by default); real ones are ~100 bytes.
inline constexpr size_t kMaxModelSpecBytes = 4096;

// `what` names the field in the error ("agent_id", "topic", ...). The error quotes the
// name only through Quoted.
absl::Status ValidateName(absl::string_view what, absl::string_view name);

// A client-supplied string as it may appear in a log line or an error detail: quoted,
// at most `max_bytes` of it, with quotes, backslashes and every byte outside printable
// ASCII escaped (\n, \xNN), and the full length named when cut ('abc...' (5000 bytes)).
std::string Quoted(absl::string_view text, size_t max_bytes = 64);

absl::Status ValidateModelSpec(const v1::ModelSpec& spec);

// Checks that do not need the sender's model.
absl::Status ValidateEnvelope(const v1::Envelope& envelope, uint64_t max_message_bytes);

// Full packet validation against the sender's registration; returns the header and the
// decoded values (one checksum, one decode).
absl::StatusOr<AcceptedLatent> ValidateLatent(const v1::LatentPacket& latent,
                                              const v1::ModelSpec& sender);

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_VALIDATION_H_
