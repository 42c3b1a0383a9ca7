// Shell-style glob matching for ACLs and policy rules: `*` matches any run of
// characters (including none and including '.'), `?` matches one character; everything
// else matches itself. No character classes, no escapes.
// Thread safety: pure.
#ifndef LATENTBUS_BROKER_GLOB_H_
#define LATENTBUS_BROKER_GLOB_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace latentbus::broker {

bool GlobMatch(absl::string_view pattern, absl::string_view text);

// True when any pattern matches.
bool GlobMatchAny(const std::vector<std::string>& patterns, absl::string_view text);

}  // namespace latentbus::broker

#endif  // LATENTBUS_BROKER_GLOB_H_
