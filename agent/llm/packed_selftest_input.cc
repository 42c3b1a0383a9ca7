// Writes the real matrices the emulated self-test checks (packed_kernels_selftest.cc reads
// the records): from each of the two real models, the first tensor of every block type the
// runtime packs, its first 16 rows, repacked. Usage: packed_selftest_input OUT_FILE.
// Exit 1 with a message when a model file is missing (scripts/fetch-models.sh fetches them).
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>

#include "agent/gguf/gguf_file.h"
#include "agent/llm/packed_matrix.h"
#include "agent/model_cache/model_cache.h"

namespace latentbus::agent::llm {
namespace {

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
      const bool int4 = m->layout() == PackedMatrix::Layout::kInt4;
      const uint32_t header[4] = {int4 ? 1u : 0u, static_cast<uint32_t>(m->group()),
                                  static_cast<uint32_t>(rows), static_cast<uint32_t>(cols)};
      write(header, sizeof(header));
      if (int4) {
        write(m->q4(), rows * cols / 2);
      } else {
        write(m->q8(), rows * cols);
      }
      const size_t floats = rows * m->groups_per_row() * sizeof(float);
      write(m->scales(), floats);
      if (int4) write(m->mins(), floats);
      std::printf("%s %s %s: %zu x %zu\n", file, t.name.c_str(), gguf::TypeName(t.type), rows,
                  cols);
      ++records;
    }
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
