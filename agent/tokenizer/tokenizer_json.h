// Builds tokenizers from a Hugging Face tokenizer.json (the `tokenizers` serialization).
//
// Supported (anything else is Unimplemented, naming the component):
//   model        BPE (no dropout, no continuing_subword_prefix / end_of_word_suffix,
//                ignore_merges false); merges as "a b" strings or ["a", "b"] pairs.
//   byte-level   normalizer null; pre_tokenizer ByteLevel(add_prefix_space=false,
//                use_regex=true), optionally after Digits(individual_digits=true) in a
//                Sequence; decoder ByteLevel.
//   SentencePiece-style  normalizer Replace(" " -> "▁"); pre_tokenizer null or
//                Split(" ", merged_with_previous) (a no-op after that normalizer); byte_fallback.
//                (Metaspace pre-tokenizers are not supported yet.)
//   added_tokens special -> TokenType::kControl, others -> kUserDefined; lstrip, rstrip and
//                single_word must be false; normalized=true only for content without ' ' or
//                "▁" (where matching the raw and the normalized text is the same).
//   post_processor  TemplateProcessing "<bos> $A [<eos>]" sets add_bos / add_eos and their ids;
//                ByteLevel (offset trimming: we never trim spans) and null are accepted.
// tokenizer_config.json in the same folder, when present, supplies bos_token, eos_token and
// chat_template.
//
// Thread safety: free functions without shared state.
#ifndef LATENTBUS_AGENT_TOKENIZER_TOKENIZER_JSON_H_
#define LATENTBUS_AGENT_TOKENIZER_TOKENIZER_JSON_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agent/tokenizer/tokenizer.h"
#include "agent/tokenizer/tokenizer_spec.h"

namespace latentbus::agent::tokenizer {

// Parses the JSON text of a tokenizer.json. InvalidArgument for malformed JSON or
// inconsistent content, Unimplemented for unsupported components.
absl::StatusOr<TokenizerSpec> SpecFromTokenizerJsonText(absl::string_view json_text,
                                                        absl::string_view name);

// Reads `path` (and tokenizer_config.json beside it, if any). NotFound when `path` is absent.
absl::StatusOr<TokenizerSpec> SpecFromTokenizerJson(const std::string& path);
absl::StatusOr<std::unique_ptr<Tokenizer>> FromTokenizerJson(const std::string& path);

}  // namespace latentbus::agent::tokenizer

#endif  // LATENTBUS_AGENT_TOKENIZER_TOKENIZER_JSON_H_
