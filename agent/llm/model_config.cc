#include "agent/llm/model_config.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace latentbus::agent::llm {

const char* FamilyName(Family family) {
  switch (family) {
    case Family::kLlama:
      return "llama";
    case Family::kGemma3:
      return "gemma3";
  }
  return "unknown";
}

absl::StatusOr<ModelConfig> ModelConfig::FromGguf(const gguf::GgufFile& file) {
  ModelConfig c;
  absl::StatusOr<std::string> arch = file.GetString("general.architecture");
  if (!arch.ok()) return arch.status();
  c.architecture = *arch;
  if (c.architecture == "llama" || c.architecture == "mistral" || c.architecture == "qwen2") {
    c.family = Family::kLlama;
  } else if (c.architecture == "gemma3") {
    c.family = Family::kGemma3;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(file.path(), ": architecture '", c.architecture,
                     "' is not supported (supported: llama, mistral, qwen2, gemma3)"));
  }
  const std::string p = c.architecture + ".";
  auto get = [&](const std::string& key, int64_t* out) -> absl::Status {
    absl::StatusOr<int64_t> v = file.GetInt(p + key);
    if (!v.ok()) return v.status();
    *out = *v;
    return absl::OkStatus();
  };
  for (auto [key, out] : {std::pair<const char*, int64_t*>{"embedding_length", &c.hidden_size},
                          {"block_count", &c.num_layers},
                          {"attention.head_count", &c.num_heads},
                          {"feed_forward_length", &c.ffn_size},
                          {"context_length", &c.context_length}}) {
    if (absl::Status s = get(key, out); !s.ok()) return s;
  }
  absl::StatusOr<int64_t> kv = file.GetIntOr(p + "attention.head_count_kv", c.num_heads);
  if (!kv.ok()) return kv.status();
  c.num_kv_heads = *kv;
  if (c.num_heads <= 0 || c.num_kv_heads <= 0 || c.num_heads % c.num_kv_heads != 0) {
    return absl::InvalidArgumentError(absl::StrCat(file.path(), ": ", c.num_heads,
                                                   " attention heads cannot share ", c.num_kv_heads,
                                                   " key/value heads"));
  }
  absl::StatusOr<int64_t> head_dim =
      file.GetIntOr(p + "attention.key_length", c.hidden_size / c.num_heads);
  if (!head_dim.ok()) return head_dim.status();
  c.head_dim = *head_dim;
  if (c.head_dim <= 0 || c.head_dim % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(file.path(), ": head dimension ", c.head_dim, " must be positive and even"));
  }
  absl::StatusOr<double> eps = file.GetFloat(p + "attention.layer_norm_rms_epsilon");
  if (!eps.ok()) return eps.status();
  c.rms_eps = *eps;
  absl::StatusOr<double> base = file.GetFloatOr(p + "rope.freq_base", 10000.0);
  if (!base.ok()) return base.status();
  c.rope_base = *base;

  // The vocabulary size comes from the tokenizer when the architecture omits it.
  absl::StatusOr<int64_t> vocab = file.GetIntOr(p + "vocab_size", 0);
  if (!vocab.ok()) return vocab.status();
  c.vocab_size = *vocab;
  if (c.vocab_size == 0) {
    if (const gguf::Value* tokens = file.Find("tokenizer.ggml.tokens")) {
      c.vocab_size = static_cast<int64_t>(tokens->strings.size());
    }
  }
  c.tied_embeddings = !file.FindTensor("output.weight").ok();
  c.layer_is_local.assign(static_cast<size_t>(c.num_layers), false);
  c.attention_scale = 1.0 / std::sqrt(static_cast<double>(c.head_dim));

  if (c.family == Family::kLlama) {
    c.rope_style = RopeStyle::kInterleaved;
  } else {
    // Gemma 3: five local (sliding-window, RoPE base 10k) layers, then one global layer.
    // The 270M GGUF records the window but not the pattern or the local base, which
    // are fixed by the architecture.
    c.rope_style = RopeStyle::kHalves;
    absl::StatusOr<int64_t> window = file.GetIntOr(p + "attention.sliding_window", 0);
    if (!window.ok()) return window.status();
    c.sliding_window = *window;
    absl::StatusOr<double> local_base = file.GetFloatOr(p + "rope.local.freq_base", 10000.0);
    if (!local_base.ok()) return local_base.status();
    c.rope_local_base = *local_base;
    for (int64_t i = 0; i < c.num_layers; ++i) {
      c.layer_is_local[static_cast<size_t>(i)] = c.sliding_window > 0 && (i + 1) % 6 != 0;
    }
    // query_pre_attn_scalar equals head_dim for the released Gemma 3 sizes.
    c.attention_scale = 1.0 / std::sqrt(static_cast<double>(c.head_dim));
    c.embedding_scale = std::sqrt(static_cast<double>(c.hidden_size));
  }
  if (c.vocab_size <= 0 || c.hidden_size <= 0 || c.num_layers <= 0 || c.ffn_size <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(file.path(), ": incomplete model metadata"));
  }
  return c;
}

absl::StatusOr<ModelConfig> ModelConfig::FromHfConfig(const std::string& json_text,
                                                      const std::string& name) {
  nlohmann::json j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return absl::InvalidArgumentError(absl::StrCat(name, ": not a JSON object"));
  if (j.value("model_type", "") == "gemma3" && j.contains("text_config")) j = j["text_config"];
  ModelConfig c;
  c.architecture = j.value("model_type", "");
  if (c.architecture == "llama" || c.architecture == "mistral" || c.architecture == "qwen2") {
    c.family = Family::kLlama;
  } else if (c.architecture == "gemma3_text" || c.architecture == "gemma3") {
    c.family = Family::kGemma3;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(name, ": model_type '", c.architecture,
                                                   "' is not supported (llama, mistral, qwen2, "
                                                   "gemma3_text)"));
  }
  try {
    c.vocab_size = j.at("vocab_size").get<int64_t>();
    c.hidden_size = j.at("hidden_size").get<int64_t>();
    c.num_layers = j.at("num_hidden_layers").get<int64_t>();
    c.num_heads = j.at("num_attention_heads").get<int64_t>();
    c.num_kv_heads = j.value("num_key_value_heads", c.num_heads);
    c.ffn_size = j.at("intermediate_size").get<int64_t>();
    c.context_length = j.value("max_position_embeddings", int64_t{2048});
    c.rms_eps = j.value("rms_norm_eps", 1e-6);
    if (c.num_heads <= 0 || c.num_kv_heads <= 0 || c.num_heads % c.num_kv_heads != 0) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": bad head counts"));
    }
    c.head_dim = j.contains("head_dim") && !j["head_dim"].is_null() ? j["head_dim"].get<int64_t>()
                                                                    : c.hidden_size / c.num_heads;
    // transformers >= 5 writes rope_parameters (per layer type for Gemma 3), older
    // versions rope_theta / rope_local_base_freq.
    const nlohmann::json rope = j.value("rope_parameters", nlohmann::json::object());
    c.rope_base = j.value("rope_theta", 10000.0);
    if (rope.contains("rope_theta")) c.rope_base = rope["rope_theta"].get<double>();
    if (rope.contains("full_attention")) {
      c.rope_base = rope["full_attention"].value("rope_theta", c.rope_base);
    }
    c.rope_local_base = j.value("rope_local_base_freq", 10000.0);
    if (rope.contains("sliding_attention")) {
      c.rope_local_base = rope["sliding_attention"].value("rope_theta", c.rope_local_base);
    }
    c.tied_embeddings = j.value("tie_word_embeddings", c.family == Family::kGemma3);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": ", e.what()));
  }
  c.rope_style = RopeStyle::kHalves;  // Hugging Face layout
  c.layer_is_local.assign(static_cast<size_t>(c.num_layers), false);
  c.attention_scale = 1.0 / std::sqrt(static_cast<double>(c.head_dim));
  if (c.family == Family::kGemma3) {
    c.sliding_window = j.value("sliding_window", int64_t{0});
    const double scalar = j.value("query_pre_attn_scalar", static_cast<double>(c.head_dim));
    c.attention_scale = 1.0 / std::sqrt(scalar);
    c.embedding_scale = std::sqrt(static_cast<double>(c.hidden_size));
    const nlohmann::json types = j.value("layer_types", nlohmann::json::array());
    for (int64_t i = 0; i < c.num_layers; ++i) {
      const bool local = static_cast<size_t>(i) < types.size()
                             ? types[static_cast<size_t>(i)] == "sliding_attention"
                             : (i + 1) % j.value("sliding_window_pattern", 6) != 0;
      c.layer_is_local[static_cast<size_t>(i)] = local && c.sliding_window > 0;
    }
  }
  if (c.vocab_size <= 0 || c.hidden_size <= 0 || c.num_layers <= 0 || c.ffn_size <= 0 ||
      c.head_dim <= 0 || c.head_dim % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": incomplete or invalid config"));
  }
  return c;
}

}  // namespace latentbus::agent::llm
