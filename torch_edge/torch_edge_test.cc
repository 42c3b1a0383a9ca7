#include "torch_edge/torch_edge.h"

#include <gtest/gtest.h>

namespace latentbus::torch_edge {
namespace {

TEST(TorchEdgeTest, RoundTripsShapesAndValues) {
  codec::Tensor t;
  t.shape = {2, 3};
  t.data = {1, -2, 3.5f, 0, 1e-3f, -7};
  torch::Tensor x = ToTorch(t);
  EXPECT_EQ(x.sizes(), (std::vector<int64_t>{2, 3}));
  t.data[0] = 42;  // ToTorch copied
  EXPECT_EQ(x[0][0].item<float>(), 1.0f);
  codec::Tensor back = FromTorch(x.t());  // non-contiguous input
  EXPECT_EQ(back.shape, (std::vector<uint32_t>{3, 2}));
  EXPECT_EQ(back.data, (std::vector<float>{1, 0, -2, 1e-3f, 3.5f, -7}));
}

TEST(TorchEdgeTest, ConvertsDoubleAndGradTensors) {
  torch::Tensor x = torch::tensor({0.5, 1.5}, torch::kFloat64).requires_grad_(true);
  codec::Tensor back = FromTorch(x * 2);
  EXPECT_EQ(back.data, (std::vector<float>{1.0f, 3.0f}));
}

TEST(TorchEdgeTest, GuardedTurnsLibtorchErrorsIntoStatus) {
  absl::Status s = Guarded("matmul", []() -> absl::Status {
    torch::matmul(torch::ones({2, 3}), torch::ones({2, 3}));
    return absl::OkStatus();
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_NE(s.message().find("matmul: libtorch:"), std::string::npos) << s;
}

TEST(TorchEdgeTest, ComputeThreadsAreSet) {
  SetComputeThreads(1);
  EXPECT_EQ(torch::get_num_threads(), 1);
}

}  // namespace
}  // namespace latentbus::torch_edge
