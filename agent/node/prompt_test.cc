// The read prompt with the message as soft tokens or as the packet holding them: the same
// segments but the last, which the runtime decodes (on a GPU, there) to the same rows.
#include "agent/node/prompt.h"

#include <gtest/gtest.h>

#include "codec/packet.h"

namespace latentbus::agent::node {
namespace {

TEST(ReadPromptTest, ALatentPacketReadsAsItsDecodedRows) {
  llm::LoadOptions options;
  options.threads = 1;
  absl::StatusOr<std::unique_ptr<llm::Model>> model =
      llm::Model::Load(std::string(LATENTBUS_LLM_TESTDATA) + "/tiny-llama", options);
  ASSERT_TRUE(model.ok()) << model.status();
  absl::StatusOr<llm::LatentResult> latent =
      (*model)->EncodeLatent("a message", 1, *codec::ParseEncoding("int4/g32+rot64"));
  ASSERT_TRUE(latent.ok()) << latent.status();
  absl::StatusOr<codec::Tensor> rows = codec::Decode(latent->packet);
  ASSERT_TRUE(rows.ok());
  for (bool chat : {false, true}) {
    ReadPrompt soft;
    soft.chat = chat;
    soft.instruction = "Repeat it.";
    ReadPrompt packed = soft;
    soft.soft = *rows;
    packed.latent = latent->packet;
    absl::StatusOr<std::vector<llm::PromptSegment>> a = BuildReadPrompt(**model, soft);
    absl::StatusOr<std::vector<llm::PromptSegment>> b = BuildReadPrompt(**model, packed);
    if (chat && !a.ok()) {  // the tiny checkpoint may have no chat template
      EXPECT_EQ(a.status().code(), b.status().code());
      continue;
    }
    ASSERT_TRUE(a.ok() && b.ok()) << a.status() << b.status();
    ASSERT_EQ(a->size(), b->size());
    absl::StatusOr<llm::ForwardResult> fa = (*model)->Forward(*a, {}, false, false);
    absl::StatusOr<llm::ForwardResult> fb = (*model)->Forward(*b, {}, false, false);
    ASSERT_TRUE(fa.ok() && fb.ok()) << fa.status() << fb.status();
    EXPECT_EQ(fa->logits.data, fb->logits.data) << "chat " << chat;
  }
  ReadPrompt both;
  both.text = "text";
  both.latent = latent->packet;
  EXPECT_EQ(BuildReadPrompt(**model, both).status().code(), absl::StatusCode::kInvalidArgument);
  ReadPrompt narrow;
  narrow.latent =
      *codec::Encode(codec::Tensor{{1, 8}, std::vector<float>(8, 1.0f)}, codec::DefaultEncoding());
  EXPECT_EQ(BuildReadPrompt(**model, narrow).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace latentbus::agent::node
