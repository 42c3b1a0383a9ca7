#include "bridge/bridge_kernels.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "codec/kernel_choice.h"

namespace latentbus::bridge {
namespace {

// What `cpu` can be asked for, in the words of the option.
std::string Choices(const codec::CpuFeatures& cpu) {
  std::vector<std::string> names = {"auto", "blas", "int8"};
  for (const std::string& v : Int8VariantsThisCpuRuns(cpu)) names.push_back(v);
  return absl::StrJoin(names, ", ");
}

absl::StatusOr<const Int8MatmulKernels*> Named(const std::string& name,
                                               const codec::CpuFeatures& cpu) {
  if (name == "blas") return nullptr;
  if (name == "int8") return &BestInt8MatmulKernels(cpu);
  if (const Int8MatmulKernels* k = Int8MatmulKernelsNamed(name.c_str(), cpu)) return k;
  return absl::InvalidArgumentError(absl::StrCat("bridge kernels '", name,
                                                 "' unknown or not supported by this CPU; "
                                                 "choose one of: ",
                                                 Choices(cpu)));
}

}  // namespace

std::vector<std::string> Int8VariantsThisCpuRuns(const codec::CpuFeatures& cpu) {
  std::vector<std::string> names;
  for (const char* v : codec::kKernelVariantNames) {
    if (Int8MatmulKernelsNamed(v, cpu) != nullptr) names.push_back(v);
  }
  return names;
}

absl::StatusOr<const Int8MatmulKernels*> ResolveBridgeKernels(const std::string& requested,
                                                              const char* env, bool has_int8_form,
                                                              const codec::CpuFeatures& cpu) {
  std::string choice = requested;
  const bool from_env = (choice.empty() || choice == "auto") && env != nullptr && *env != '\0';
  if (from_env) choice = env;
  if (choice.empty()) return nullptr;  // the library's default
  if (choice == "auto") {
    const bool vnni = cpu.avx512_vnni || cpu.avx_vnni;
    return has_int8_form && vnni ? &BestInt8MatmulKernels(cpu) : nullptr;
  }
  absl::StatusOr<const Int8MatmulKernels*> k = Named(choice, cpu);
  if (!k.ok() && from_env) {
    return absl::InvalidArgumentError(absl::StrCat(kBridgeKernelsEnv, ": ", k.status().message()));
  }
  if (!k.ok() || *k == nullptr || has_int8_form) return k;
  if (from_env) return nullptr;  // falls back for this kind
  return absl::InvalidArgumentError(
      absl::StrCat("bridge kernels '", choice, "': this bridge kind has no int8 form"));
}

}  // namespace latentbus::bridge
