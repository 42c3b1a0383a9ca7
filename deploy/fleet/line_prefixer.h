// Splits a member's output into lines and writes each one as "<prefix><line>\n", so
// the interleaved logs of a fleet say which process wrote what. A line is written only
// once complete (or once it passes kMaxLine bytes, or at Flush), so lines of different
// members never mix.
//
// Thread safety: not thread-safe; one owner. `out` must outlive the prefixer.
#ifndef LATENTBUS_DEPLOY_FLEET_LINE_PREFIXER_H_
#define LATENTBUS_DEPLOY_FLEET_LINE_PREFIXER_H_

#include <cstddef>
#include <cstdio>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace latentbus::fleet {

class LinePrefixer {
 public:
  static constexpr size_t kMaxLine = 64 << 10;

  LinePrefixer(std::string prefix, std::FILE* out) : prefix_(std::move(prefix)), out_(out) {}

  // Writes every complete line in `bytes` (after what earlier calls left pending).
  void Write(absl::string_view bytes);
  // Writes the pending partial line, if any (the member's output ended).
  void Flush();

 private:
  void Emit(absl::string_view line);

  std::string prefix_;
  std::FILE* out_;
  std::string pending_;
};

}  // namespace latentbus::fleet

#endif  // LATENTBUS_DEPLOY_FLEET_LINE_PREFIXER_H_
