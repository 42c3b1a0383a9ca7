#include "broker/translation_pool.h"

#include <gtest/gtest.h>

#include <thread>

#include "absl/synchronization/notification.h"
#include "broker/metrics.h"

namespace latentbus::broker {
namespace {

class NamedBridge final : public Bridge {
 public:
  explicit NamedBridge(std::string id) { info_.id = std::move(id); }
  const BridgeInfo& info() const override { return info_; }
  absl::StatusOr<std::vector<codec::Tensor>> Apply(
      absl::Span<const codec::Tensor* const>) const override {
    return absl::UnimplementedError("not used");
  }

 private:
  BridgeInfo info_;
};

// Test double: records batch sizes; the first call blocks until released so that
// later jobs pile up in the queue. Output packet i is the input's layer + 1000.
class FakeTranslator final : public Translator {
 public:
  absl::StatusOr<std::vector<codec::Packet>> Translate(
      const Bridge& bridge, absl::Span<const AcceptedLatent* const> latents,
      const TranslationTarget&) const override {
    bool first;
    {
      absl::MutexLock lock(&mu_);
      batches_.push_back(bridge.info().id + ":" + std::to_string(latents.size()));
      first = batches_.size() == 1;
    }
    if (first) entered_.Notify();
    release_.WaitForNotification();
    if (bridge.info().id == "broken") return absl::InternalError("bridge exploded");
    std::vector<codec::Packet> out;
    for (const AcceptedLatent* p : latents) {
      codec::Packet q;
      q.layer = p->header.layer + 1000;
      out.push_back(q);
    }
    return out;
  }
  std::vector<std::string> batches() const {
    absl::MutexLock lock(&mu_);
    return batches_;
  }
  mutable absl::Notification entered_;
  absl::Notification release_;

 private:
  mutable absl::Mutex mu_;
  mutable std::vector<std::string> batches_ ABSL_GUARDED_BY(mu_);
};

std::shared_ptr<const AcceptedLatent> PacketWithLayer(uint32_t layer, uint32_t tokens = 45) {
  auto p = std::make_shared<AcceptedLatent>();
  p->header.layer = layer;
  p->header.shape = {tokens, 576};
  p->values.shape = {tokens, 576};
  p->values.data.assign(size_t{tokens} * 576, 0.0f);
  return p;
}

// Options: threads, max_batch, max_pending, inline_max_tokens.
TranslationPool::Options InlineUpTo(size_t tokens, int threads = 1) {
  TranslationPool::Options o;
  o.threads = threads;
  o.max_pending = 100;
  o.inline_max_tokens = tokens;
  return o;
}

struct Results {
  absl::Mutex mu;
  std::map<uint32_t, absl::StatusOr<codec::Packet>> by_layer ABSL_GUARDED_BY(mu);
  TranslationPool::Done For(uint32_t layer) {
    return [this, layer](absl::StatusOr<codec::Packet> p) {
      absl::MutexLock lock(&mu);
      by_layer.emplace(layer, std::move(p));
    };
  }
  size_t size() {
    absl::MutexLock lock(&mu);
    return by_layer.size();
  }
};

TEST(TranslationPoolTest, BatchesJobsSharingABridgeAndTarget) {
  FakeTranslator translator;
  Metrics metrics;
  TranslationPool pool(&translator, {1, 32, 100}, &metrics);
  auto a = std::make_shared<NamedBridge>("a");
  auto b = std::make_shared<NamedBridge>("b");
  TranslationTarget target;
  Results results;
  ASSERT_TRUE(pool.Submit(a, PacketWithLayer(0), target, results.For(0)).ok());
  ASSERT_TRUE(translator.entered_.WaitForNotificationWithTimeout(absl::Seconds(10)));
  // The only worker is busy: these queue up and must come out as two batches.
  ASSERT_TRUE(pool.Submit(a, PacketWithLayer(1), target, results.For(1)).ok());
  ASSERT_TRUE(pool.Submit(b, PacketWithLayer(2), target, results.For(2)).ok());
  ASSERT_TRUE(pool.Submit(a, PacketWithLayer(3), target, results.For(3)).ok());
  ASSERT_TRUE(pool.Submit(a, PacketWithLayer(4), target, results.For(4)).ok());
  translator.release_.Notify();
  for (int i = 0; i < 1000 && results.size() < 5; ++i) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_EQ(translator.batches(), (std::vector<std::string>{"a:1", "a:3", "b:1"}));
  absl::MutexLock lock(&results.mu);
  ASSERT_EQ(results.by_layer.size(), 5u);
  for (uint32_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(results.by_layer.at(i).ok());
    EXPECT_EQ(results.by_layer.at(i)->layer, 1000 + i);  // each job gets its own output
  }
  EXPECT_EQ(metrics.CounterValue("latentbus_translations_total", {{"result", "ok"}}), 5);
}

TEST(TranslationPoolTest, ErrorsReachEveryJobOfTheBatch) {
  FakeTranslator translator;
  translator.release_.Notify();
  TranslationPool pool(&translator, {1, 32, 100}, nullptr);
  auto broken = std::make_shared<NamedBridge>("broken");
  Results results;
  ASSERT_TRUE(pool.Submit(broken, PacketWithLayer(7), {}, results.For(7)).ok());
  for (int i = 0; i < 1000 && results.size() < 1; ++i) absl::SleepFor(absl::Milliseconds(5));
  absl::MutexLock lock(&results.mu);
  ASSERT_EQ(results.by_layer.size(), 1u);
  EXPECT_EQ(results.by_layer.at(7).status().code(), absl::StatusCode::kInternal);
}

TEST(TranslationPoolTest, BacklogLimitAndShutdownCancelsQueued) {
  FakeTranslator translator;
  TranslationPool pool(&translator, {1, 1, 2}, nullptr);
  auto a = std::make_shared<NamedBridge>("a");
  Results results;
  ASSERT_TRUE(pool.Submit(a, PacketWithLayer(0), {}, results.For(0)).ok());
  ASSERT_TRUE(translator.entered_.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(pool.Submit(a, PacketWithLayer(1), {}, results.For(1)).ok());
  ASSERT_TRUE(pool.Submit(a, PacketWithLayer(2), {}, results.For(2)).ok());
  EXPECT_EQ(pool.Submit(a, PacketWithLayer(3), {}, results.For(3)).code(),
            absl::StatusCode::kResourceExhausted);
  std::thread releaser([&] {
    absl::SleepFor(absl::Milliseconds(50));
    translator.release_.Notify();
  });
  pool.Shutdown();
  releaser.join();
  absl::MutexLock lock(&results.mu);
  ASSERT_EQ(results.by_layer.size(), 3u);
  EXPECT_TRUE(results.by_layer.at(0).ok());
  EXPECT_EQ(results.by_layer.at(1).status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(results.by_layer.at(2).status().code(), absl::StatusCode::kCancelled);
}

// The backlog is bounded in bytes of decoded latents as well as in jobs; one latent over
// the whole budget still goes through when nothing else waits, and the bytes come back
// as the workers take the jobs.
TEST(TranslationPoolTest, BacklogIsBoundedInBytes) {
  FakeTranslator translator;
  TranslationPool::Options options;
  options.threads = 1;
  options.max_batch = 32;
  const size_t one = size_t{45} * 576 * sizeof(float);  // PacketWithLayer's latent
  options.max_pending_bytes = 2 * one;
  TranslationPool pool(&translator, options, nullptr);
  auto a = std::make_shared<NamedBridge>("a");
  Results results;
  ASSERT_TRUE(pool.Submit(a, PacketWithLayer(0), {}, results.For(0)).ok());
  ASSERT_TRUE(translator.entered_.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(pool.Submit(a, PacketWithLayer(1), {}, results.For(1)).ok());
  ASSERT_TRUE(pool.Submit(a, PacketWithLayer(2), {}, results.For(2)).ok());
  EXPECT_EQ(pool.pending_bytes(), 2 * one);
  const absl::Status full = pool.Submit(a, PacketWithLayer(3), {}, results.For(3));
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(full.message().find("bytes of latents waiting"), std::string::npos) << full;
  translator.release_.Notify();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (results.size() < 3 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(pool.pending_bytes(), 0u);
  // Alone in the queue, a latent three times the budget is taken.
  options.max_pending_bytes = one / 3;
  TranslationPool tight(&translator, options, nullptr);
  ASSERT_TRUE(tight.Submit(a, PacketWithLayer(4), {}, results.For(4)).ok());
}

// An idle pool translates a small packet on the submitting thread: the callback has run
// when Submit returns, on this thread.
TEST(TranslationPoolTest, IdlePoolTranslatesSmallPacketsInline) {
  FakeTranslator translator;
  translator.release_.Notify();
  Metrics metrics;
  TranslationPool pool(&translator, InlineUpTo(64), &metrics);
  auto a = std::make_shared<NamedBridge>("a");
  std::thread::id ran_on;
  absl::StatusOr<codec::Packet> got = absl::UnknownError("not called");
  ASSERT_TRUE(pool.Submit(
                      a, PacketWithLayer(5, 64), {},
                      [&](absl::StatusOr<codec::Packet> p) {
                        ran_on = std::this_thread::get_id();
                        got = std::move(p);
                      },
                      /*may_run_inline=*/true)
                  .ok());
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->layer, 1005u);
  EXPECT_EQ(pool.inline_count(), 1u);
  EXPECT_EQ(metrics.CounterValue("latentbus_translations_inline_total", {}), 1);
  EXPECT_EQ(metrics.CounterValue("latentbus_translations_total", {{"result", "ok"}}), 1);
}

// Not inline: a packet over the limit, a caller that does not allow it, a pool with inline
// off. Those go to the worker (another thread).
TEST(TranslationPoolTest, LargePacketsAndUnallowedJobsGoToTheWorkers) {
  FakeTranslator translator;
  translator.release_.Notify();
  struct Case {
    size_t limit;
    uint32_t tokens;
    bool allowed;
  };
  for (const Case& c : {Case{64, 65, true}, Case{64, 8, false}, Case{0, 1, true}}) {
    TranslationPool pool(&translator, InlineUpTo(c.limit), nullptr);
    absl::Notification done;
    std::thread::id ran_on;
    ASSERT_TRUE(pool.Submit(
                        std::make_shared<NamedBridge>("a"), PacketWithLayer(1, c.tokens), {},
                        [&](absl::StatusOr<codec::Packet>) {
                          ran_on = std::this_thread::get_id();
                          done.Notify();
                        },
                        c.allowed)
                    .ok());
    ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
    EXPECT_NE(ran_on, std::this_thread::get_id()) << c.limit << " " << c.tokens;
    EXPECT_EQ(pool.inline_count(), 0u);
  }
}

// At most `threads` translations run at once, inline ones included: with the only slot
// taken by a worker, an inline-allowed job queues (and batches) instead; with the slot
// taken by an inline translation, the worker waits for it.
TEST(TranslationPoolTest, InlineAndWorkersShareTheSlots) {
  {
    FakeTranslator translator;
    TranslationPool pool(&translator, InlineUpTo(64), nullptr);
    auto a = std::make_shared<NamedBridge>("a");
    Results results;
    ASSERT_TRUE(pool.Submit(a, PacketWithLayer(0), {}, results.For(0)).ok());
    ASSERT_TRUE(translator.entered_.WaitForNotificationWithTimeout(absl::Seconds(10)));
    ASSERT_TRUE(pool.Submit(a, PacketWithLayer(1), {}, results.For(1), true).ok());
    EXPECT_EQ(results.size(), 0u);  // queued, not run here (it would block on release_)
    translator.release_.Notify();
    for (int i = 0; i < 1000 && results.size() < 2; ++i) absl::SleepFor(absl::Milliseconds(5));
    EXPECT_EQ(results.size(), 2u);
    EXPECT_EQ(pool.inline_count(), 0u);
  }
  {
    FakeTranslator translator;
    TranslationPool pool(&translator, InlineUpTo(64), nullptr);
    auto a = std::make_shared<NamedBridge>("a");
    auto b = std::make_shared<NamedBridge>("b");
    Results results;
    std::thread submitter(
        [&] { ASSERT_TRUE(pool.Submit(a, PacketWithLayer(0), {}, results.For(0), true).ok()); });
    ASSERT_TRUE(translator.entered_.WaitForNotificationWithTimeout(absl::Seconds(10)));
    ASSERT_TRUE(pool.Submit(b, PacketWithLayer(1), {}, results.For(1)).ok());
    absl::SleepFor(absl::Milliseconds(50));
    EXPECT_EQ(translator.batches(), std::vector<std::string>{"a:1"});  // b waits for the slot
    EXPECT_EQ(pool.pending(), 1u);
    translator.release_.Notify();
    submitter.join();
    for (int i = 0; i < 1000 && results.size() < 2; ++i) absl::SleepFor(absl::Milliseconds(5));
    EXPECT_EQ(translator.batches(), (std::vector<std::string>{"a:1", "b:1"}));
    EXPECT_EQ(pool.inline_count(), 1u);
  }
}

// Shutdown returns only after inline translations in flight have ended.
TEST(TranslationPoolTest, ShutdownWaitsForInlineTranslations) {
  FakeTranslator translator;
  TranslationPool pool(&translator, InlineUpTo(64), nullptr);
  Results results;
  std::thread submitter([&] {
    EXPECT_TRUE(pool.Submit(std::make_shared<NamedBridge>("a"), PacketWithLayer(0), {},
                            results.For(0), true)
                    .ok());
  });
  ASSERT_TRUE(translator.entered_.WaitForNotificationWithTimeout(absl::Seconds(10)));
  std::thread releaser([&] {
    absl::SleepFor(absl::Milliseconds(50));
    translator.release_.Notify();
  });
  pool.Shutdown();
  EXPECT_EQ(results.size(), 1u);
  releaser.join();
  submitter.join();
}

}  // namespace
}  // namespace latentbus::broker
