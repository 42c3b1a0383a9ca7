#include "agent/model_cache/model_cache.h"

#include <cstdlib>
#include <optional>
#include <string>

#include "gtest/gtest.h"

namespace latentbus::agent {
namespace {

// Sets an environment variable for one scope and restores it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(ModelCacheTest, EnvironmentOverridesTheHomeDefault) {
  ScopedEnv home("HOME", "/home/someone");
  {
    ScopedEnv dir("LATENTBUS_MODEL_DIR", "/models");
    EXPECT_EQ(ModelCacheDir(), "/models");
    EXPECT_EQ(ModelCachePath(kSmolLm2File), "/models/SmolLM2-135M-Instruct.Q4_1.gguf");
  }
  {
    ScopedEnv dir("LATENTBUS_MODEL_DIR", "");  // empty counts as unset
    EXPECT_EQ(ModelCacheDir(), "/home/someone/.cache/latentbus/models");
  }
  {
    ScopedEnv dir("LATENTBUS_MODEL_DIR", nullptr);
    EXPECT_EQ(ModelCachePath(kGemma3File),
              "/home/someone/.cache/latentbus/models/gemma-3-270m-q4_k_m.gguf");
  }
}

TEST(ModelCacheTest, NoHomeFallsBackToRoot) {
  ScopedEnv dir("LATENTBUS_MODEL_DIR", nullptr);
  ScopedEnv home("HOME", nullptr);
  EXPECT_EQ(ModelCacheDir(), "/root/.cache/latentbus/models");
}

}  // namespace
}  // namespace latentbus::agent
