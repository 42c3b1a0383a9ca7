// Agent ids as NATS subject tokens and key-value keys: lower-case hex of the id's bytes.
// Ids may hold any byte; subjects and keys allow only a few (no '.', '*', '>', spaces).
//
// Thread safety: pure functions.
#ifndef LATENTBUS_BROKER_HEX_TOKEN_H_
#define LATENTBUS_BROKER_HEX_TOKEN_H_

#include <string>

#include "absl/strings/string_view.h"

namespace latentbus::broker {

std::string HexToken(absl::string_view bytes);
// The bytes `hex` spells; false when it is not lower-case hex of whole bytes.
bool FromHexToken(absl::string_view hex, std::string* bytes);

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_HEX_TOKEN_H_
