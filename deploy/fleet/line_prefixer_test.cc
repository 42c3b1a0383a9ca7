#include "deploy/fleet/line_prefixer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace latentbus::fleet {
namespace {

std::string Read(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buffer[256];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), f)) > 0) out.append(buffer, n);
  return out;
}

TEST(LinePrefixerTest, WritesOnlyCompleteLinesEachPrefixed) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  LinePrefixer p("broker | ", f);
  p.Write("first li");
  EXPECT_EQ(Read(f), "");
  p.Write("ne\r\nsecond\nthi");
  p.Write("rd");
  EXPECT_EQ(Read(f), "broker | first line\nbroker | second\n");
  p.Flush();
  EXPECT_EQ(Read(f), "broker | first line\nbroker | second\nbroker | third\n");
  std::fclose(f);
}

TEST(LinePrefixerTest, BreaksOverlongLines) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  LinePrefixer p("a | ", f);
  p.Write(std::string(LinePrefixer::kMaxLine + 10, 'x'));
  const std::string out = Read(f);
  EXPECT_EQ(out.size(), 4 + LinePrefixer::kMaxLine + 10 + 1);
  std::fclose(f);
}

}  // namespace
}  // namespace latentbus::fleet
