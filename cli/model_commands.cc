// `latentbus model ...`: load a model, inspect it, generate text, tap hidden states.
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>

#include "agent/llm/model.h"
#include "cli/commands.h"
#include "cli/model_path.h"
#include "codec/packet.h"
#include "codec/packet_proto.h"
#include "nlohmann/json.hpp"

namespace latentbus::cli {
namespace {

struct ModelArgs {
  std::string path;
  std::string device = "cpu";
  int threads = 0;
  bool json = false;
};

void AddModelOptions(CLI::App* cmd, ModelArgs* args) {
  cmd->add_option("MODEL", args->path, "Model: a GGUF file or a Hugging Face folder")
      ->required()
      ->transform(ModelPath());
  cmd->add_option("--device", args->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--threads", args->threads, "libtorch threads (0: one per core)")
      ->check(CLI::Range(0, 1024));
  cmd->add_flag("--json", args->json, "Print JSON");
}

absl::StatusOr<std::unique_ptr<agent::llm::Model>> LoadModel(const ModelArgs& args) {
  agent::llm::LoadOptions options;
  options.device = args.device;
  options.threads = args.threads;
  if (!args.json) std::cerr << "loading " << args.path << " ..." << std::endl;
  return agent::llm::Model::Load(args.path, options);
}

int Fail(const absl::Status& s) {
  std::cerr << "error: " << s.message() << "\n";
  return 1;
}

nlohmann::json InfoJson(const agent::llm::ModelInfo& i) {
  return {{"model_id", i.model_id},
          {"fingerprint", i.fingerprint},
          {"family", i.family},
          {"architecture", i.architecture},
          {"path", i.path},
          {"hidden_size", i.hidden_size},
          {"embedding_size", i.embedding_size},
          {"num_layers", i.num_layers},
          {"vocab_size", i.vocab_size},
          {"context_length", i.context_length},
          {"num_parameters", i.num_parameters},
          {"weight_bytes", i.weight_bytes},
          {"quantized", i.quantized},
          {"int8_activations", i.int8_activations},
          {"device", i.device},
          {"threads", i.threads}};
}

// A "Key:  N kB" line of a /proc/self file, in bytes; 0 when absent.
size_t ProcKilobytes(const char* file, const std::string& key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::stoull(line.substr(key.size())) * 1024;
  }
  return 0;
}

int RunInfo(const ModelArgs& args) {
  // The process before any model: libtorch's ~340 shared libraries and the heap its
  // static initialisers fill (operator registry), the same for every model.
  const size_t rss_before = ProcKilobytes("/proc/self/status", "VmRSS:");
  absl::StatusOr<std::unique_ptr<agent::llm::Model>> model = LoadModel(args);
  if (!model.ok()) return Fail(model.status());
  nlohmann::json info = InfoJson((*model)->info());
  // Memory after loading, against the dequantized float32 weights held: the whole
  // resident set (shared libraries' code included), what loading the model added to it,
  // and the private anonymous memory.
  const double weights = static_cast<double>((*model)->info().weight_bytes);
  const size_t rss = ProcKilobytes("/proc/self/status", "VmRSS:");
  const size_t anon = ProcKilobytes("/proc/self/smaps_rollup", "Anonymous:");
  const size_t added = rss > rss_before ? rss - rss_before : 0;
  info["resident_bytes"] = rss;
  info["resident_vs_weights"] = static_cast<double>(rss) / weights;
  info["resident_before_load_bytes"] = rss_before;
  info["resident_added_by_load_bytes"] = added;
  info["resident_added_vs_weights"] = static_cast<double>(added) / weights;
  info["anonymous_bytes"] = anon;
  info["anonymous_vs_weights"] = static_cast<double>(anon) / weights;
  // Against the model file (a GGUF file; a folder has no single size).
  std::error_code ec;
  const uintmax_t file_bytes = std::filesystem::is_regular_file(args.path, ec)
                                   ? std::filesystem::file_size(args.path, ec)
                                   : 0;
  if (file_bytes > 0 && !ec) {
    info["file_bytes"] = file_bytes;
    info["resident_added_vs_file"] = static_cast<double>(added) / static_cast<double>(file_bytes);
  }
  if (args.json) {
    std::cout << info.dump(2) << std::endl;
  } else {
    for (const auto& [key, value] : info.items()) {
      std::cout << std::left << std::setw(16) << key << " " << value << "\n";
    }
  }
  return 0;
}

struct GenerateArgs {
  ModelArgs model;
  std::string prompt;
  bool chat = false;
  agent::llm::GenerateOptions options;
};

int RunGenerate(const GenerateArgs& args) {
  absl::StatusOr<std::unique_ptr<agent::llm::Model>> model = LoadModel(args.model);
  if (!model.ok()) return Fail(model.status());
  std::string prompt = args.prompt;
  agent::llm::GenerateOptions options = args.options;
  if (args.chat) {
    absl::StatusOr<std::string> chat = (*model)->ChatPrompt({{"user", args.prompt}});
    if (!chat.ok()) return Fail(chat.status());
    prompt = *chat;
    options.add_bos = false;  // the template writes BOS where the family wants one
  }
  // A chat prompt carries the template's control tokens; a plain prompt is user text.
  absl::StatusOr<agent::llm::GenerateResult> r = (*model)->Generate(
      {agent::llm::PromptSegment::Text(prompt, /*parse_special=*/args.chat)}, options);
  if (!r.ok()) return Fail(r.status());
  if (args.model.json) {
    std::cout << nlohmann::json{{"text", r->text},
                                {"tokens", r->tokens},
                                {"prompt_tokens", r->prompt_tokens},
                                {"prefill_seconds", r->prefill_seconds},
                                {"decode_seconds", r->decode_seconds},
                                {"stop_reason", r->stop_reason}}
                     // Generated bytes need not be valid UTF-8 (the token ids are exact).
                     .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << std::endl;
  } else {
    std::cout << r->text << std::endl;
    std::cerr << "[" << r->prompt_tokens << " prompt tokens, " << r->tokens.size()
              << " generated, prefill " << std::fixed << std::setprecision(3) << r->prefill_seconds
              << " s, decode " << r->decode_seconds << " s (" << std::setprecision(1)
              << (r->decode_seconds > 0 ? static_cast<double>(r->tokens.size()) / r->decode_seconds
                                        : 0.0)
              << " tok/s), stop: " << r->stop_reason << "]" << std::endl;
  }
  return 0;
}

struct EncodeArgs {
  ModelArgs model;
  std::string text;
  std::vector<int> layers;
  std::string out;
  std::string encoding = "int4/g32";
};

int RunEncode(const EncodeArgs& args) {
  absl::StatusOr<std::unique_ptr<agent::llm::Model>> model = LoadModel(args.model);
  if (!model.ok()) return Fail(model.status());
  absl::StatusOr<agent::llm::EncodeResult> r = (*model)->Encode(args.text, args.layers);
  if (!r.ok()) return Fail(r.status());
  nlohmann::json j;
  j["token_ids"] = r->token_ids;
  j["spans"] = r->spans;
  j["layers"] = nlohmann::json::array();
  for (size_t i = 0; i < args.layers.size(); ++i) {
    const codec::Tensor& h = r->hidden[i];
    double sq = 0;
    float max_abs = 0;
    for (float v : h.data) {
      sq += static_cast<double>(v) * v;
      max_abs = std::max(max_abs, std::fabs(v));
    }
    j["layers"].push_back({{"layer", args.layers[i]},
                           {"shape", h.shape},
                           {"rms", std::sqrt(sq / static_cast<double>(h.data.size()))},
                           {"max_abs", max_abs}});
  }
  if (!args.out.empty()) {
    absl::StatusOr<codec::Encoding> encoding = codec::ParseEncoding(args.encoding);
    if (!encoding.ok()) return Fail(encoding.status());
    absl::StatusOr<codec::Packet> packet = codec::Encode(r->hidden[0], *encoding);
    if (!packet.ok()) return Fail(packet.status());
    packet->model_id = (*model)->info().model_id;
    packet->model_fingerprint = (*model)->info().fingerprint;
    packet->space = codec::Space::kHidden;
    packet->layer = static_cast<uint32_t>(args.layers[0]);
    std::ofstream out(args.out, std::ios::binary);
    out << codec::ToProto(*std::move(packet)).SerializeAsString();
    if (!out) return Fail(absl::UnavailableError("cannot write " + args.out));
    j["packet"] = args.out;
  }
  if (args.model.json) {
    std::cout << j.dump(2) << std::endl;
  } else {
    std::cout << r->token_ids.size() << " tokens\n";
    for (const auto& l : j["layers"]) {
      std::cout << "layer " << l["layer"] << ": shape " << l["shape"] << " rms " << l["rms"]
                << " max |x| " << l["max_abs"] << "\n";
    }
    if (!args.out.empty())
      std::cout << "packet (layer " << args.layers[0] << ", " << args.encoding << ") written to "
                << args.out << "\n";
  }
  return 0;
}

}  // namespace

void RegisterModelCommands(CLI::App& app, RunFn* run) {
  CLI::App* model = app.add_subcommand("model", "The LLM runtime: load, inspect, generate, encode");
  model->require_subcommand(1);

  auto info = std::make_shared<ModelArgs>();
  CLI::App* info_cmd = model->add_subcommand("info", "Load a model and describe it");
  AddModelOptions(info_cmd, info.get());
  info_cmd->callback([info, run] { *run = [info] { return RunInfo(*info); }; });

  auto gen = std::make_shared<GenerateArgs>();
  CLI::App* gen_cmd = model->add_subcommand("generate", "Generate text from a prompt");
  AddModelOptions(gen_cmd, &gen->model);
  gen_cmd->add_option("--prompt", gen->prompt, "Prompt text")->required();
  gen_cmd->add_flag("--chat", gen->chat, "Wrap the prompt in the model's chat template");
  gen_cmd->add_option("--max-tokens", gen->options.max_new_tokens, "Most tokens to generate")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  gen_cmd->add_option("--temperature", gen->options.temperature, "0: greedy")
      ->check(CLI::Range(0.0, 10.0))
      ->capture_default_str();
  gen_cmd->add_option("--top-p", gen->options.top_p, "Nucleus sampling mass")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  gen_cmd->add_option("--seed", gen->options.seed, "Sampling seed")->capture_default_str();
  gen_cmd->add_option("--stop", gen->options.stop, "Stop strings");
  gen_cmd->callback([gen, run] { *run = [gen] { return RunGenerate(*gen); }; });

  auto enc = std::make_shared<EncodeArgs>();
  CLI::App* enc_cmd =
      model->add_subcommand("encode", "Prefill a text and report hidden states at layers");
  AddModelOptions(enc_cmd, &enc->model);
  enc_cmd->add_option("--text", enc->text, "Text to encode")->required();
  enc_cmd->add_option("--layer", enc->layers, "Tap layer (repeatable; 0 = embeddings)")->required();
  enc_cmd->add_option("--out", enc->out, "Write the first layer as a LatentPacket file");
  enc_cmd->add_option("--encoding", enc->encoding, "Packet encoding for --out")
      ->capture_default_str();
  enc_cmd->callback([enc, run] { *run = [enc] { return RunEncode(*enc); }; });
}

}  // namespace latentbus::cli
