#include "deploy/fleet/line_prefixer.h"

namespace latentbus::fleet {

void LinePrefixer::Write(absl::string_view bytes) {
  while (!bytes.empty()) {
    const size_t newline = bytes.find('\n');
    if (newline == absl::string_view::npos) {
      pending_.append(bytes.data(), bytes.size());
      if (pending_.size() >= kMaxLine) Flush();
      return;
    }
    if (pending_.empty()) {
      Emit(bytes.substr(0, newline));
    } else {
      pending_.append(bytes.data(), newline);
      Emit(pending_);
      pending_.clear();
    }
    bytes.remove_prefix(newline + 1);
  }
}

void LinePrefixer::Flush() {
  if (pending_.empty()) return;
  Emit(pending_);
  pending_.clear();
}

void LinePrefixer::Emit(absl::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::string out = prefix_;
  out.append(line.data(), line.size());
  out.push_back('\n');
  std::fwrite(out.data(), 1, out.size(), out_);
  std::fflush(out_);
}

}  // namespace latentbus::fleet
