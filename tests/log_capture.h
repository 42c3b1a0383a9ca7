// Everything logged through spdlog's default logger while a LogCapture lives, for a test
// to read: what the broker says about streams, bridges and refusals.
#ifndef LATENTBUS_TESTS_LOG_CAPTURE_H_
#define LATENTBUS_TESTS_LOG_CAPTURE_H_

#include <memory>
#include <string>

#include "spdlog/sinks/ringbuffer_sink.h"
#include "spdlog/spdlog.h"

namespace latentbus::testing {

class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>("capture", sink_);
    logger->set_level(spdlog::level::info);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // What was logged so far, line by line (a copy taken under the sink's lock, so it may be
  // read while the broker's threads still log).
  std::string text() const {
    std::string all;
    for (const std::string& line : sink_->last_formatted()) all += line;
    return all;
  }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_ =
      std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1 << 16);
  std::shared_ptr<spdlog::logger> previous_;
};

}  // namespace latentbus::testing

#endif  // LATENTBUS_TESTS_LOG_CAPTURE_H_
