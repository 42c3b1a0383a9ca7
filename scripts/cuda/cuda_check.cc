// Device check of the LLM runtime: runs one checkpoint on the CPU and on a second device
// (CUDA unless $LB_CHECK_DEVICE says otherwise) through the public API, agent/llm/model.h,
// and reports how far the two agree and how fast the device is. scripts/cuda/check.sh
// drives it and compares its dumps with transformers (hf_check.py); see README.md there.
//
//   cuda_check tiny TESTDATA NAME...           tiny checkpoints vs their reference.json
//   cuda_check dump MODEL IDS_JSON OUT_DIR     hidden states (every layer) and last logits
//                                              as raw float32, CPU then device
//   cuda_check generate MODEL SPEC_JSON OUT_JSON   greedy decode of a prompt holding an
//                                              embedding segment, CPU then device
//   cuda_check bench MODEL OUT_JSON            prefill and decode tokens/s on the device
//
// $LB_CHECK_DEVICE=cpu runs every check with the CPU on both sides (a dry run without a
// GPU). Prints one "PASS"/"FAIL" line per check. Exit status: 0 when all passed, 1 when
// one failed, 2 on a usage, load or I/O error.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "agent/llm/model.h"
#include "codec/packet.h"
#include "nlohmann/json.hpp"

namespace latentbus::agent::llm {
namespace {

int failures = 0;

void Check(bool ok, const std::string& what, const std::string& detail) {
  std::printf("%s %s: %s\n", ok ? "PASS" : "FAIL", what.c_str(), detail.c_str());
  std::fflush(stdout);
  if (!ok) ++failures;
}

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "cuda_check: %s\n", message.c_str());
  std::exit(2);
}

std::string CheckDevice() {
  const char* d = std::getenv("LB_CHECK_DEVICE");
  return d != nullptr && *d != '\0' ? d : "cuda";
}

std::unique_ptr<Model> LoadOrDie(const std::string& path, const std::string& device) {
  LoadOptions options;
  options.device = device;
  absl::StatusOr<std::unique_ptr<Model>> m = Model::Load(path, options);
  if (!m.ok()) Die(std::string(m.status().ToString()));
  return *std::move(m);
}

template <typename T>
T OrDie(absl::StatusOr<T> v) {
  if (!v.ok()) Die(std::string(v.status().ToString()));
  return *std::move(v);
}

nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) Die("cannot read " + path);
  return nlohmann::json::parse(in);
}

void WriteFloats(const std::string& path, const std::vector<float>& v) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(v.data()),
            static_cast<std::streamsize>(v.size() * sizeof(float)));
  if (!out) Die("cannot write " + path);
}

std::vector<float> ReadFloats(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) Die("cannot read " + path);
  std::vector<float> v(static_cast<size_t>(in.tellg()) / sizeof(float));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * 4));
  return v;
}

// Max |a - b| and ||a - b|| / ||b|| (b is the reference).
struct Diff {
  double max_abs = 0;
  double rel = 0;
};

Diff Compare(const std::vector<float>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) Die("comparing tensors of different sizes");
  Diff d;
  double err = 0, norm = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double e = static_cast<double>(a[i]) - b[i];
    d.max_abs = std::max(d.max_abs, std::fabs(e));
    err += e * e;
    norm += b[i] * b[i];
  }
  d.rel = norm > 0 ? std::sqrt(err / norm) : std::sqrt(err);
  return d;
}

Diff Compare(const std::vector<float>& a, const std::vector<float>& b) {
  return Compare(a, std::vector<double>(b.begin(), b.end()));
}

std::vector<double> Flatten(const nlohmann::json& rows) {
  std::vector<double> out;
  for (const auto& row : rows) {
    for (double v : row) out.push_back(v);
  }
  return out;
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3g", v);
  return buf;
}

std::string Str(const std::vector<int32_t>& ids) { return nlohmann::json(ids).dump(); }

// Logits, hidden states, greedy decode, splice and concurrency on one tiny checkpoint,
// with the tolerances agent/llm/tiny_model_test.cc uses on the CPU.
void CheckTiny(const std::string& dir, const std::string& name, const std::string& device) {
  const nlohmann::json ref = ReadJson(dir + "/reference.json");
  std::unique_ptr<Model> cpu = LoadOrDie(dir, "cpu");
  std::unique_ptr<Model> dev = LoadOrDie(dir, device);
  Check(dev->info().device.rfind(device.substr(0, device.find(':')), 0) == 0,
        name + " loads on " + device, "ModelInfo::device = " + dev->info().device);
  const auto ids = ref["token_ids"].get<std::vector<int32_t>>();
  const auto layers = ref["hidden_layers"].get<std::vector<int>>();
  const ForwardResult c = OrDie(cpu->Forward({PromptSegment::Tokens(ids)}, layers, true));
  const ForwardResult d = OrDie(dev->Forward({PromptSegment::Tokens(ids)}, layers, true));

  const Diff logits_ref = Compare(d.logits.data, Flatten(ref["logits"]));
  Check(logits_ref.max_abs < 1e-4, name + " device logits vs transformers",
        "max abs " + Num(logits_ref.max_abs) + " (tolerance 1e-4)");
  double worst_ref = 0, worst_cpu = 0;
  for (size_t i = 0; i < layers.size(); ++i) {
    worst_ref = std::max(worst_ref, Compare(d.hidden[i].data, Flatten(ref["hidden"][i])).rel);
    worst_cpu = std::max(worst_cpu, Compare(d.hidden[i].data, c.hidden[i].data).rel);
  }
  Check(worst_ref < 1e-5, name + " device hidden states vs transformers",
        "worst layer rel. error " + Num(worst_ref) + " (tolerance 1e-5)");
  const Diff logits_cpu = Compare(d.logits.data, c.logits.data);
  Check(logits_cpu.max_abs < 1e-4 && worst_cpu < 1e-5, name + " device vs cpu",
        "logits max abs " + Num(logits_cpu.max_abs) + ", worst hidden rel. " + Num(worst_cpu) +
            (logits_cpu.max_abs == 0 && worst_cpu == 0 ? " (bit-identical)" : ""));

  GenerateOptions greedy;
  greedy.max_new_tokens = 8;
  greedy.ignore_eos = true;
  const GenerateResult g = OrDie(dev->Generate({PromptSegment::Tokens(ids)}, greedy));
  const auto want = ref["greedy_ids"].get<std::vector<int32_t>>();
  Check(g.tokens == want, name + " device greedy 8 tokens vs transformers",
        Str(g.tokens) + (g.tokens == want ? "" : " want " + Str(want)));

  const std::vector<int32_t> head(ids.begin(), ids.begin() + 3), tail(ids.begin() + 3, ids.end());
  const codec::Tensor tail_emb = OrDie(dev->EmbedTokens(tail));
  const ForwardResult spliced = OrDie(
      dev->Forward({PromptSegment::Tokens(head), PromptSegment::Embeddings(tail_emb)}, {}, true));
  const ForwardResult plain = OrDie(dev->Forward({PromptSegment::Tokens(ids)}, {}, true));
  Check(spliced.logits.data == plain.logits.data, name + " device splice of own embeddings",
        "max abs vs tokens " + Num(Compare(spliced.logits.data, plain.logits.data).max_abs) +
            " (must be 0)");

  const EncodeResult enc = OrDie(dev->Encode("soft tokens", {0, 1}, false));
  Check(enc.hidden.size() == 2 && enc.hidden[1].shape[0] == enc.token_ids.size(),
        name + " device Encode", std::to_string(enc.token_ids.size()) + " tokens");

  // The sender's path on the device: quantized by the device codec from the tapped layer,
  // byte for byte what the CPU codec makes of the same hidden states; and the receiver's:
  // a latent segment dequantized on the device splices as its decoded rows.
  for (const char* encoding : {"int4/g32", "int8/g64+rot", "int4/g32+rot64"}) {
    const codec::Encoding e = OrDie(codec::ParseEncoding(encoding));
    const LatentResult latent = OrDie(dev->EncodeLatent("soft tokens on the device", 1, e));
    const EncodeResult hidden = OrDie(dev->Encode("soft tokens on the device", {1}));
    codec::Tensor h = hidden.hidden[0];
    if (h.shape[0] > 1 && latent.packet.shape[0] + 1 == h.shape[0]) {  // the BOS row dropped
      h.data.erase(h.data.begin(), h.data.begin() + h.shape[1]);
      h.shape[0] -= 1;
    }
    const codec::Packet want = OrDie(codec::Encode(h, e));
    const bool want_on_device = device.rfind("cuda", 0) == 0;  // a dry run's device is cpu
    Check(latent.on_device == want_on_device && latent.packet.payload == want.payload &&
              latent.packet.scales == want.scales && latent.packet.checksum == want.checksum,
          name + " device EncodeLatent " + encoding + " vs the CPU codec on its hidden states",
          std::string(latent.on_device ? "on the device" : "NOT on the device") + ", " +
              std::to_string(latent.packet.payload.size()) + " payload bytes");
    const codec::Tensor rows = OrDie(codec::Decode(latent.packet));
    const ForwardResult as_rows =
        OrDie(dev->Forward({PromptSegment::Text("x"), PromptSegment::Embeddings(rows)}, {}, false));
    const ForwardResult as_packet = OrDie(
        dev->Forward({PromptSegment::Text("x"), PromptSegment::Latent(latent.packet)}, {}, false));
    Check(as_rows.logits.data == as_packet.logits.data,
          name + " device latent segment " + encoding + " vs its decoded rows",
          "max abs " + Num(Compare(as_rows.logits.data, as_packet.logits.data).max_abs) +
              " (must be 0)");
  }

  // Model is documented as safe for concurrent calls: four threads on the device at once.
  std::vector<ForwardResult> results(4);
  std::vector<std::thread> threads;
  for (auto& r : results) {
    threads.emplace_back([&] { r = OrDie(dev->Forward({PromptSegment::Tokens(ids)}, {}, true)); });
  }
  for (auto& t : threads) t.join();
  double worst_thread = 0;
  for (const auto& r : results) {
    worst_thread = std::max(worst_thread, Compare(r.logits.data, plain.logits.data).max_abs);
  }
  Check(worst_thread < 1e-6, name + " 4 concurrent device forwards",
        "max abs vs serial " + Num(worst_thread));
}

int RunTiny(const std::string& testdata, const std::vector<std::string>& names) {
  const std::string device = CheckDevice();
  for (const std::string& name : names) CheckTiny(testdata + "/" + name, name, device);
  if (device.rfind("cuda", 0) == 0) {
    LoadOptions options;
    options.device = "cuda:99";
    absl::StatusOr<std::unique_ptr<Model>> m = Model::Load(testdata + "/" + names.front(), options);
    Check(!m.ok(), "cuda:99 is refused with a status",
          m.ok() ? "it loaded" : std::string(m.status().ToString()));
  }
  return failures == 0 ? 0 : 1;
}

// Hidden states at every layer over the prompt, and the last position's logits, from the
// CPU and from the device: written as OUT_DIR/{cpu,dev}.{hidden,logits}.f32 for
// hf_check.py, and compared here.
int RunDump(const std::string& model_dir, const std::string& ids_json, const std::string& out) {
  const auto ids = ReadJson(ids_json)["ids"].get<std::vector<int32_t>>();
  const std::string device = CheckDevice();
  std::vector<float> hidden[2], logits[2];
  int64_t num_layers = 0, width = 0;
  for (int k = 0; k < 2; ++k) {
    const std::string dev = k == 0 ? "cpu" : device;
    std::unique_ptr<Model> m = LoadOrDie(model_dir, dev);
    num_layers = m->info().num_layers;
    width = m->info().hidden_size;
    std::vector<int> layers;
    for (int l = 0; l <= num_layers; ++l) layers.push_back(l);
    const auto t0 = std::chrono::steady_clock::now();
    ForwardResult r = OrDie(m->Forward({PromptSegment::Tokens(ids)}, layers, false));
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("dump %s on %s: %zu tokens, %lld layers, first forward %.3f s\n", model_dir.c_str(),
                dev.c_str(), ids.size(), static_cast<long long>(num_layers), s);
    for (const codec::Tensor& h : r.hidden) {
      hidden[k].insert(hidden[k].end(), h.data.begin(), h.data.end());
    }
    logits[k] = std::move(r.logits.data);
    const std::string tag = k == 0 ? "cpu" : "dev";
    WriteFloats(out + "/" + tag + ".hidden.f32", hidden[k]);
    WriteFloats(out + "/" + tag + ".logits.f32", logits[k]);
  }
  const size_t per_layer = ids.size() * static_cast<size_t>(width);
  double worst = 0;
  int worst_layer = 0;
  for (int64_t l = 0; l <= num_layers; ++l) {
    const auto at = static_cast<std::ptrdiff_t>(static_cast<size_t>(l) * per_layer);
    const std::vector<float> a(hidden[1].begin() + at,
                               hidden[1].begin() + at + static_cast<std::ptrdiff_t>(per_layer));
    const std::vector<float> b(hidden[0].begin() + at,
                               hidden[0].begin() + at + static_cast<std::ptrdiff_t>(per_layer));
    const double rel = Compare(a, b).rel;
    if (rel >= worst) {
      worst = rel;
      worst_layer = static_cast<int>(l);
    }
  }
  const Diff lg = Compare(logits[1], logits[0]);
  const auto argmax = [](const std::vector<float>& v) {
    return std::max_element(v.begin(), v.end()) - v.begin();
  };
  Check(worst < 1e-4, model_dir + " device vs cpu hidden states",
        "worst layer " + std::to_string(worst_layer) + " rel. error " + Num(worst) +
            " (tolerance 1e-4)");
  Check(lg.max_abs < 1e-3 && argmax(logits[0]) == argmax(logits[1]),
        model_dir + " device vs cpu last logits",
        "max abs " + Num(lg.max_abs) + " (tolerance 1e-3), argmax " +
            std::to_string(argmax(logits[1])) + " vs " + std::to_string(argmax(logits[0])));
  std::ofstream(out + "/meta.json") << nlohmann::json{
      {"tokens", ids.size()},
      {"num_layers", num_layers},
      {"hidden_size", width},
      {"vocab", logits[0].size()}}.dump();
  return failures == 0 ? 0 : 1;
}

// SPEC_JSON: {"head": [ids], "soft": "rows.f32", "soft_rows": n, "tail": [ids],
// "max_new_tokens": k}; the prompt is Tokens(head) + Embeddings(soft) + Tokens(tail).
int RunGenerate(const std::string& model_dir, const std::string& spec_json,
                const std::string& out_json) {
  const nlohmann::json spec = ReadJson(spec_json);
  const std::string dir = spec_json.substr(0, spec_json.find_last_of('/') + 1);
  codec::Tensor soft;
  soft.data = ReadFloats(dir + spec["soft"].get<std::string>());
  const auto rows = spec["soft_rows"].get<uint32_t>();
  soft.shape = {rows, static_cast<uint32_t>(soft.data.size() / rows)};
  const std::vector<PromptSegment> prompt = {
      PromptSegment::Tokens(spec["head"].get<std::vector<int32_t>>()),
      PromptSegment::Embeddings(soft),
      PromptSegment::Tokens(spec["tail"].get<std::vector<int32_t>>())};
  GenerateOptions options;
  options.max_new_tokens = spec["max_new_tokens"].get<int>();
  options.ignore_eos = true;
  nlohmann::json result;
  std::vector<int32_t> tokens[2];
  const std::string device = CheckDevice();
  for (int k = 0; k < 2; ++k) {
    const std::string dev = k == 0 ? "cpu" : device;
    std::unique_ptr<Model> m = LoadOrDie(model_dir, dev);
    tokens[k] = OrDie(m->Generate(prompt, options)).tokens;
    if (k == 1) {
      const std::vector<int32_t> again = OrDie(m->Generate(prompt, options)).tokens;
      Check(again == tokens[1], model_dir + " device greedy decode repeats",
            std::to_string(again.size()) + " tokens");
    }
    result[k == 0 ? "cpu" : "dev"] = tokens[k];
  }
  size_t same = 0;
  while (same < tokens[0].size() && same < tokens[1].size() && tokens[0][same] == tokens[1][same]) {
    ++same;
  }
  Check(tokens[0] == tokens[1], model_dir + " greedy decode with soft tokens, device vs cpu",
        std::to_string(same) + " of " + std::to_string(tokens[0].size()) + " tokens agree");
  std::ofstream(out_json) << result.dump();
  return failures == 0 ? 0 : 1;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The same prompt ids as bench/model_bench.cc (valid for vocabularies over 1,100).
std::vector<int32_t> BenchIds(int t) {
  std::vector<int32_t> ids(static_cast<size_t>(t));
  for (int k = 0; k < t; ++k) ids[static_cast<size_t>(k)] = 100 + (k * 7919) % 1000;
  return ids;
}

// Medians of timed runs after warm-up. Forward returns only after the logits reach host
// memory, so its wall time includes the device's work.
int RunBench(const std::string& model_dir, const std::string& out_json) {
  const std::string device = CheckDevice();
  std::unique_ptr<Model> m = LoadOrDie(model_dir, device);
  nlohmann::json result = {{"model", model_dir}, {"device", m->info().device}};
  for (int t : {64, 512}) {
    const std::vector<int32_t> ids = BenchIds(t);
    std::vector<double> seconds;
    for (int k = 0; k < 13; ++k) {
      const auto t0 = std::chrono::steady_clock::now();
      OrDie(m->Forward({PromptSegment::Tokens(ids)}, {}, false));
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (k >= 3) seconds.push_back(s);
    }
    const double med = Median(seconds);
    result["prefill"].push_back({{"tokens", t}, {"median_s", med}, {"tok_s", t / med}});
    std::printf("bench %s on %s: prefill %d tokens %.1f tok/s (median of %zu)\n", model_dir.c_str(),
                device.c_str(), t, t / med, seconds.size());
  }
  GenerateOptions options;
  options.max_new_tokens = 128;
  options.ignore_eos = true;
  std::vector<double> rates, prefill;
  for (int k = 0; k < 6; ++k) {
    const GenerateResult r = OrDie(m->Generate({PromptSegment::Tokens(BenchIds(64))}, options));
    if (k == 0) continue;
    rates.push_back(static_cast<double>(r.tokens.size()) / r.decode_seconds);
    prefill.push_back(r.prefill_seconds);
  }
  result["decode"] = {{"prompt_tokens", 64},
                      {"new_tokens", options.max_new_tokens},
                      {"tok_s", Median(rates)},
                      {"generate_prefill_s", Median(prefill)}};
  std::printf("bench %s on %s: decode %.1f tok/s (median of %zu; Generate's prefill %.4f s)\n",
              model_dir.c_str(), device.c_str(), Median(rates), rates.size(), Median(prefill));
  std::ofstream(out_json) << result.dump(1);
  return 0;
}

int Main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() >= 3 && args[0] == "tiny") {
    return RunTiny(args[1], std::vector<std::string>(args.begin() + 2, args.end()));
  }
  if (args.size() == 4 && args[0] == "dump") return RunDump(args[1], args[2], args[3]);
  if (args.size() == 4 && args[0] == "generate") return RunGenerate(args[1], args[2], args[3]);
  if (args.size() == 3 && args[0] == "bench") return RunBench(args[1], args[2]);
  std::fprintf(stderr,
               "usage: cuda_check tiny TESTDATA NAME... | dump MODEL IDS_JSON OUT_DIR |\n"
               "       generate MODEL SPEC_JSON OUT_JSON | bench MODEL OUT_JSON\n"
               "(second device: $LB_CHECK_DEVICE, default cuda)\n");
  return 2;
}

}  // namespace
}  // namespace latentbus::agent::llm

int main(int argc, char** argv) { return latentbus::agent::llm::Main(argc, argv); }
