// Builds tokenizers from the metadata of a GGUF file (llama.cpp's tokenizer.ggml.* keys).
//
//   tokenizer.ggml.model "gpt2"   byte-level BPE; tokens, merges, token_type; pre-tokenizer
//                                 from tokenizer.ggml.pre: "gpt2" -> kGpt2; "smollm",
//                                 "starcoder", "refact", "codeshell" -> kGpt2Digits; others
//                                 Unimplemented.
//   tokenizer.ggml.model "llama"  SentencePiece-style BPE with byte fallback; tokens, scores,
//                                 token_type; merges derived from the vocabulary (the file has
//                                 none): by score, or for Gemma by vocabulary order.
//   bos/eos/unknown/padding ids, add_bos_token / add_eos_token (defaults: false for "gpt2",
//   add_bos true for "llama"), add_space_prefix (default true for "llama", as llama.cpp),
//   general.architecture and tokenizer.chat_template are copied into the spec.
//
// What we override for Gemma ("gemma", "gemma2", "gemma3" architectures) to reproduce Hugging
// Face's GemmaTokenizer, and why:
//   * llama.cpp's converter rewrote the user-defined whitespace tokens ("▁▁" ... 31 x "▁",
//     ids 138..167 in Gemma 3) with real spaces. Hugging Face spells them with "▁" and reaches
//     them by merging "▁"s, not by matching the raw text. We respell them ("▁" per character)
//     and treat them as normal tokens (as transformers' GGUF loader does).
//   * llama.cpp's converter set the scores of every control and user-defined token to -1000.
//     Gemma's merges follow its vocabulary order, not these scores, so merges rank by token id
//     (SpmMergeOrder::kTokenId). For the normal tokens the two orders agree (their scores fall
//     strictly with the id); they differ exactly for the whitespace tokens above, whose merges
//     Hugging Face applies before any other.
//   * The file's add_space_prefix (false), add_bos_token (true), bos (2 "<bos>") and eos
//     (1 "<eos>") already match Hugging Face's Gemma 3 tokenizer and are kept. The chat turn
//     ends with <end_of_turn> (106): see chat_template.h.
//
// Thread safety: free functions; the GgufFile is only read.
#ifndef LATENTBUS_AGENT_TOKENIZER_GGUF_TOKENIZER_H_
#define LATENTBUS_AGENT_TOKENIZER_GGUF_TOKENIZER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "agent/gguf/gguf_file.h"
#include "agent/tokenizer/tokenizer.h"
#include "agent/tokenizer/tokenizer_spec.h"

namespace latentbus::agent::tokenizer {

// InvalidArgument for missing or malformed keys (naming the file and key), Unimplemented for
// tokenizer models or pre-tokenizers we do not support.
absl::StatusOr<TokenizerSpec> SpecFromGguf(const gguf::GgufFile& file);
absl::StatusOr<std::unique_ptr<Tokenizer>> FromGguf(const gguf::GgufFile& file);

}  // namespace latentbus::agent::tokenizer

#endif  // LATENTBUS_AGENT_TOKENIZER_GGUF_TOKENIZER_H_
