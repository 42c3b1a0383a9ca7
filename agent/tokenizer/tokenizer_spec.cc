#include "agent/tokenizer/tokenizer_spec.h"

#include "absl/strings/str_cat.h"

namespace latentbus::agent::tokenizer {
namespace {

absl::Status Invalid(const TokenizerSpec& spec, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("tokenizer ", spec.name.empty() ? "<unnamed>" : spec.name, ": ", what));
}

}  // namespace

absl::Status ValidateSpec(const TokenizerSpec& spec) {
  const size_t n = spec.tokens.size();
  if (n == 0) return Invalid(spec, "no tokens");
  if (n > static_cast<size_t>(INT32_MAX)) return Invalid(spec, "too many tokens");
  if (!spec.scores.empty() && spec.scores.size() != n) {
    return Invalid(spec, absl::StrCat(spec.scores.size(), " scores for ", n, " tokens"));
  }
  if (!spec.types.empty() && spec.types.size() != n) {
    return Invalid(spec, absl::StrCat(spec.types.size(), " token types for ", n, " tokens"));
  }
  for (size_t i = 0; i < spec.types.size(); ++i) {
    const int32_t t = static_cast<int32_t>(spec.types[i]);
    if (t < 1 || t > 6) return Invalid(spec, absl::StrCat("token ", i, " has type ", t));
  }
  const std::pair<const char*, int32_t> ids[] = {
      {"bos", spec.bos_id}, {"eos", spec.eos_id}, {"unk", spec.unk_id}, {"pad", spec.pad_id}};
  for (const auto& [what, id] : ids) {
    if (id < -1 || id >= static_cast<int64_t>(n)) {
      return Invalid(spec, absl::StrCat(what, " id ", id, " outside [0, ", n, ")"));
    }
  }
  if (spec.add_bos && spec.bos_id < 0) return Invalid(spec, "add_bos without a bos id");
  if (spec.add_eos && spec.eos_id < 0) return Invalid(spec, "add_eos without an eos id");
  if (spec.kind == ModelKind::kSentencePieceBpe) {
    if (spec.merge_order == SpmMergeOrder::kMergesList && spec.merges.empty()) {
      return Invalid(spec, "merge order is the merges list, but there are no merges");
    }
    if (spec.merge_order == SpmMergeOrder::kScore && spec.scores.size() != n) {
      return Invalid(spec, "merge order is by score, but there are no scores");
    }
  }
  return absl::OkStatus();
}

}  // namespace latentbus::agent::tokenizer
