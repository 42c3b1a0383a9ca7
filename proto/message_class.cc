#include "proto/message_class.h"

#include <cctype>
#include <string>

#include "absl/strings/str_cat.h"

namespace latentbus::wire {

absl::StatusOr<v1::MessageClass> ParseMessageClass(absl::string_view name) {
  std::string upper = "MESSAGE_CLASS_";
  for (char ch : name) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  v1::MessageClass c;
  if (!v1::MessageClass_Parse(upper, &c) || c == v1::MESSAGE_CLASS_UNSPECIFIED) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown message class '", name, "' (context, reasoning, instruction, result, control)"));
  }
  return c;
}

}  // namespace latentbus::wire
