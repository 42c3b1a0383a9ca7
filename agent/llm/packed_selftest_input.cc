// Writes the real matrices the emulated self-test checks (packed_kernels_selftest.cc reads
// the records): from each of the two real models, the first tensor of every block type the
// runtime packs, its first 16 rows, repacked; and two F16 matrices of the tiny Llama
// checkpoint (agent/llm/testdata). Usage: packed_selftest_input OUT_FILE.
// Exit 1 with a message when a model file is missing (scripts/fetch-models.sh fetches them).
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>

#include "agent/gguf/gguf_file.h"
#include "agent/llm/packed_matrix.h"
#include "agent/llm/safetensors_file.h"
#include "agent/model_cache/model_cache.h"

namespace latentbus::agent::llm {
namespace {

// One record: the header, the values, the scales and mins where the layout has them.
template <typename W>
void Write(const PackedMatrix& m, W write) {
  const uint32_t header[4] = {static_cast<uint32_t>(m.layout()), static_cast<uint32_t>(m.group()),
                              static_cast<uint32_t>(m.rows()), static_cast<uint32_t>(m.cols())};
  write(header, sizeof(header));
  const size_t n = m.rows() * m.cols();
  switch (m.layout()) {
    case PackedLayout::kInt8:
      write(m.q8(), n);
      break;
    case PackedLayout::kInt4:
      write(m.q4(), n / 2);
      break;
    case PackedLayout::kF16:
    case PackedLayout::kBF16:
      write(m.h16(), n * sizeof(uint16_t));
      return;
  }
  const size_t floats = m.rows() * m.groups_per_row() * sizeof(float);
  write(m.scales(), floats);
  if (m.layout() == PackedLayout::kInt4) write(m.mins(), floats);
}

int Main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_FILE\n", argv[0]);
    return 2;
  }
  std::ofstream out(argv[1], std::ios::binary);
  auto write = [&](const void* p, size_t n) { out.write(static_cast<const char*>(p), n); };
  int records = 0;
  for (const char* file : {kSmolLm2File, kGemma3File}) {
    const std::string path = ModelCachePath(file);
    absl::StatusOr<std::unique_ptr<gguf::GgufFile>> f = gguf::GgufFile::Open(path);
    if (!f.ok()) {
      std::fprintf(stderr, "%s: %s (scripts/fetch-models.sh fetches it)\n", path.c_str(),
                   std::string(f.status().message()).c_str());
      return 1;
    }
    std::map<gguf::GgmlType, bool> done;
    for (const gguf::TensorInfo& t : (*f)->tensors()) {
      if (!PackedMatrix::CanPack(t.type) || t.dims.size() != 2 || done[t.type]) continue;
      done[t.type] = true;
      const auto cols = static_cast<size_t>(t.dims[0]);
      const size_t rows = std::min<size_t>(static_cast<size_t>(t.dims[1]), 16);
      absl::StatusOr<PackedMatrix> m = PackedMatrix::FromGguf(t.type, t.data, rows, cols);
      if (!m.ok()) {
        std::fprintf(stderr, "%s: %s\n", t.name.c_str(), std::string(m.status().message()).c_str());
        return 1;
      }
      Write(*m, write);
      std::printf("%s %s %s: %zu x %zu\n", file, t.name.c_str(), gguf::TypeName(t.type), rows,
                  cols);
      ++records;
    }
  }
  const std::string tiny = std::string(LATENTBUS_LLM_TESTDATA) + "/tiny-llama/model.safetensors";
  absl::StatusOr<std::unique_ptr<SafetensorsFile>> st = SafetensorsFile::Open(tiny);
  if (!st.ok()) {
    std::fprintf(stderr, "%s: %s\n", tiny.c_str(), std::string(st.status().message()).c_str());
    return 1;
  }
  for (const char* name :
       {"model.layers.0.self_attn.q_proj.weight", "model.layers.0.mlp.gate_proj.weight"}) {
    const SafetensorsTensor* t = (*st)->Find(name);
    if (t == nullptr || t->dtype != "F16" || t->shape.size() != 2) {
      std::fprintf(stderr, "%s: no F16 matrix %s\n", tiny.c_str(), name);
      return 1;
    }
    const size_t rows = std::min<size_t>(static_cast<size_t>(t->shape[0]), 16);
    const auto cols = static_cast<size_t>(t->shape[1]);
    absl::StatusOr<PackedMatrix> m =
        PackedMatrix::FromHalf(PackedLayout::kF16, t->data, rows, cols);
    if (!m.ok()) {
      std::fprintf(stderr, "%s: %s\n", name, std::string(m.status().message()).c_str());
      return 1;
    }
    Write(*m, write);
    std::printf("tiny-llama %s F16: %zu x %zu\n", name, rows, cols);
    ++records;
  }
  out.close();
  if (!out || records == 0) {
    std::fprintf(stderr, "could not write %s\n", argv[1]);
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace latentbus::agent::llm

int main(int argc, char** argv) { return latentbus::agent::llm::Main(argc, argv); }
