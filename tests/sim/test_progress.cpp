// The progress bar never wraps: its line fits the terminal at any width, and
// shows the most it can in that width.
#include <gtest/gtest.h>

#include <string>

#include "sim/progress.hpp"

namespace ccpnet {
namespace test_progress {

TEST(Progress, TheLineFitsEveryWidth) {
  for (int columns = 1; columns <= 200; ++columns)
    for (const std::int64_t done : {std::int64_t{0}, std::int64_t{123'456}, std::int64_t{1'000'000'000}}) {
      const std::string line = progress_line(done, 1'000'000'000, 123'456.7, 98'765.0, columns);
      EXPECT_LE(static_cast<int>(line.size()), std::max(columns - 1, 1)) << columns << ": " << line;
      EXPECT_FALSE(line.empty());
    }
}

TEST(Progress, WideTerminalsGetEverything) {
  // 80 columns: a 30-character bar, the counts, the rate and the ETA.
  EXPECT_EQ(progress_line(250'000, 1'000'000, 50'000.4, 15.2, 80),
            "[#######.......................] 250,000/1,000,000 scenarios  50000/s  ETA 15s");
}

TEST(Progress, NarrowTerminalsDropTheEtaThenTheRate) {
  // The fields: " 250,000/1,000,000 scenarios" (28 characters), "  50000/s"
  // (9), "  ETA 15s" (9): 46 in all. 60 columns leave 59: a bar of
  // 59 - 46 - 2 = 11 (a quarter of it filled: 2).
  EXPECT_EQ(progress_line(250'000, 1'000'000, 50'000.0, 15.0, 60),
            "[##.........] 250,000/1,000,000 scenarios  50000/s  ETA 15s");
  // 50: a bar of 49 - 46 - 2 = 1 is too short (under 10): the ETA goes, the
  // bar is 49 - 37 - 2 = 10. 40: the rate goes too, 39 - 28 - 2 = 9 (with
  // the counts alone any bar will do). 20: only the share.
  EXPECT_EQ(progress_line(250'000, 1'000'000, 50'000.0, 15.0, 50), "[##........] 250,000/1,000,000 scenarios  50000/s");
  EXPECT_EQ(progress_line(250'000, 1'000'000, 50'000.0, 15.0, 40), "[##.......] 250,000/1,000,000 scenarios");
  EXPECT_EQ(progress_line(250'000, 1'000'000, 50'000.0, 15.0, 20), "25%");
}

}  // namespace test_progress
}  // namespace ccpnet
