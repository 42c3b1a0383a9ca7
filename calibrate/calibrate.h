// Calibration: a model encodes every corpus item; the result is an activation file
// (bridge/activation_file.h), what `bridge fit` fits from. It needs the LLM runtime, so
// it lives outside bridge/ (which the broker links and which never depends on agent/).
//
// Thread safety: Calibrate only calls const Model methods; concurrent calls are safe.
#ifndef LATENTBUS_CALIBRATE_CALIBRATE_H_
#define LATENTBUS_CALIBRATE_CALIBRATE_H_

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/llm/model.h"
#include "bridge/activation_file.h"
#include "bridge/corpus.h"

namespace latentbus::calibrate {

struct CalibrateOptions {
  std::vector<int> layers;  // tap layers, HF convention (0 .. num_layers)
  std::string corpus_path;  // recorded in the file
  // Called after each item with (done, total); may be empty.
  std::function<void(size_t, size_t)> progress;
};

// InvalidArgument on an empty or out-of-range layer list; model errors pass through.
absl::StatusOr<bridge::ActivationFile> Calibrate(const agent::llm::Model& model,
                                                 const std::vector<bridge::CorpusItem>& items,
                                                 const CalibrateOptions& options);

}  // namespace latentbus::calibrate

#endif  // LATENTBUS_CALIBRATE_CALIBRATE_H_
