// `--follow` output: on a terminal each change redraws the block in place (cursor up over exactly the rows it
// took, wrapped lines included, then clear); into a pipe, one stamped line per change of the summary, nothing
// while it stays the same.
#include <gtest/gtest.h>

#include "core/follow_output.hpp"

using sdn::FollowOutput;

TEST(FollowOutput, TerminalRedrawsInPlaceOnlyWhenTheBlockChanges) {
  FollowOutput out(/*is_tty=*/true, /*columns=*/80);
  EXPECT_EQ(out.update("run r\n  step 1\n", "s1", "10:00:00"), "run r\n  step 1\n");  // first: just draw
  EXPECT_EQ(out.update("run r\n  step 1\n", "s1", "10:00:05"), "");                    // unchanged: nothing
  // Up two rows, back to column 0, clear to the end of the screen, draw the new (taller) block.
  EXPECT_EQ(out.update("run r\n  step 2\n  job 7\n", "s2", "10:00:10"), "\x1b[2A\r\x1b[J" "run r\n  step 2\n  job 7\n");
  // A block without a final newline gets one, so the next redraw starts below it.
  EXPECT_EQ(out.update("done", "s3", "10:00:15"), "\x1b[3A\r\x1b[Jdone\n");
  EXPECT_EQ(out.update("again\n", "s3", "10:00:20"), "\x1b[1A\r\x1b[Jagain\n");
}

TEST(FollowOutput, WrappedLinesCountAsTheRowsTheyTake) {
  EXPECT_EQ(FollowOutput::rows_of("", 10), 0);
  EXPECT_EQ(FollowOutput::rows_of("\n", 10), 1);
  EXPECT_EQ(FollowOutput::rows_of("0123456789\n", 10), 1);   // exactly the width: no extra row
  EXPECT_EQ(FollowOutput::rows_of("0123456789a\nb\n", 10), 3);
  EXPECT_EQ(FollowOutput::rows_of("0123456789a\n", 0), 1);  // width unknown
  EXPECT_EQ(FollowOutput::rows_of("\xc3\xa9\xc3\xa9\xc3\xa9\n", 3), 1);  // "ééé": 3 columns, not 6 bytes
  FollowOutput out(true, 10);
  out.update(std::string(25, '#') + "\nx\n", "", "");
  EXPECT_EQ(out.update("y\n", "", "").substr(0, 8), "\x1b[4A\r\x1b[J");
}

TEST(FollowOutput, PipeGetsOneStampedLinePerChange) {
  FollowOutput out(/*is_tty=*/false);
  EXPECT_EQ(out.update("block 1\n", "running step 10/100 10%", "10:00:00"), "10:00:00 running step 10/100 10%\n");
  EXPECT_EQ(out.update("block 1 redrawn\n", "running step 10/100 10%", "10:00:05"), "");  // block alone: no line
  EXPECT_EQ(out.update("block 2\n", "running step 20/100 20%", "10:00:10"), "10:00:10 running step 20/100 20%\n");
  EXPECT_EQ(out.update("block 2\n", "running step 20/100 20%", "10:00:15"), "");
  EXPECT_EQ(out.update("block 3\n", "complete step 100/100 100%", ""), "complete step 100/100 100%\n");
  EXPECT_EQ(out.update("", "", "t").find('\x1b'), std::string::npos);  // never a control sequence into a file
}
