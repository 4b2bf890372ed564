// Checkpoint files and the run's checkpoint store: bit-exact round trip, damage detection, atomic commit at
// every write phase, retention, fallback past damaged checkpoints, config differences, the run lock.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "ckpt/checkpoint.hpp"
#include "ckpt/run_lock.hpp"
#include "ckpt/store.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"

namespace fsys = std::filesystem;
using namespace sdn;
using namespace sdn::ckpt;

namespace {

Checkpoint sample_checkpoint(std::int64_t step) {
  torch::manual_seed(static_cast<uint64_t>(step));
  Checkpoint c;
  c.meta.stage = "semantic";
  c.meta.step = step;
  c.meta.loader_position = step * 4;
  c.meta.world_size = 2;
  c.meta.global_batch = 4;
  c.meta.config = {"optim.lr = 0.01", "model.name = drn_d_22"};
  c.meta.config_digest = config_digest(c.meta.config);
  c.tensors["model/conv.weight"] = torch::randn({4, 3, 3, 3});
  c.tensors["model/bn.num_batches_tracked"] = torch::tensor(int64_t{step});
  c.tensors["optim/0/momentum"] = torch::randn({7}, torch::kDouble);
  c.tensors["rng/cpu"] = torch::randint(0, 255, {16}, torch::kByte);
  c.tensors["empty"] = torch::zeros({0});
  return c;
}

fsys::path fresh_dir(const std::string& name) {
  auto d = fsys::path(::testing::TempDir()) / name;
  fsys::remove_all(d);
  fsys::create_directories(d);
  return d;
}

std::string error_text(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Checkpoint, RoundTripIsBitExact) {
  auto dir = fresh_dir("ck_rt");
  auto c = sample_checkpoint(12);
  auto path = (dir / "x.h5").string();
  write_checkpoint(path, c);
  auto back = read_checkpoint(path);
  EXPECT_EQ(back.meta.step, 12);
  EXPECT_EQ(back.meta.loader_position, 48);
  EXPECT_EQ(back.meta.config, c.meta.config);
  ASSERT_EQ(back.tensors.size(), c.tensors.size());
  for (const auto& [name, t] : c.tensors) {
    ASSERT_TRUE(back.tensors.count(name)) << name;
    EXPECT_EQ(back.tensors[name].scalar_type(), t.scalar_type()) << name;
    EXPECT_EQ(back.tensors[name].sizes(), t.sizes()) << name;
    EXPECT_TRUE(torch::equal(back.tensors[name], t)) << name;
  }
  EXPECT_TRUE(verify_checkpoint(path).empty());
  EXPECT_NE(describe(back.meta).find("global batch 4"), std::string::npos);
}

TEST(Checkpoint, Crc32MatchesZlibReferenceValue) {
  const char* s = "123456789";
  EXPECT_EQ(crc32_of(s, 9), 0xCBF43926u);  // the standard CRC-32 check value
}

TEST(Checkpoint, DamageIsDetectedAndNamed) {
  auto dir = fresh_dir("ck_damage");
  auto path = (dir / "x.h5").string();
  auto c = sample_checkpoint(3);
  c.tensors["model/big"] = torch::ones({4096});
  write_checkpoint(path, c);
  // Flip bytes inside the big dataset's data (a run of 1.0f = 00 00 80 3f).
  std::string bytes = fs::read_file(path);
  auto at = bytes.find(std::string("\x00\x00\x80\x3f\x00\x00\x80\x3f", 8));
  ASSERT_NE(at, std::string::npos);
  bytes[at + 3] = 0x40;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  auto problems = verify_checkpoint(path);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("model/big: checksum mismatch"), std::string::npos) << problems[0];
  EXPECT_THROW(read_checkpoint(path), Error);

  fsys::resize_file(path, bytes.size() / 2);
  problems = verify_checkpoint(path);
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems[0].find(path), std::string::npos) << problems[0];
}

TEST(Checkpoint, FailureAtAnyPhaseLeavesThePreviousFileIntact) {
  auto dir = fresh_dir("ck_phases");
  auto path = (dir / "x.h5").string();
  write_checkpoint(path, sample_checkpoint(1));
  for (auto phase : {WritePhase::kCreated, WritePhase::kTensorsWritten, WritePhase::kMetaWritten, WritePhase::kFlushed}) {
    EXPECT_THROW(write_checkpoint(path, sample_checkpoint(2),
                                  [&](WritePhase p) {
                                    if (p == phase) throw Error(std::string("injected at ") + phase_name(p));
                                  }),
                 Error);
    EXPECT_EQ(read_meta(path).step, 1) << phase_name(phase);
    int files = 0;
    for (auto& e : fsys::directory_iterator(dir)) files += e.is_regular_file();
    EXPECT_EQ(files, 1) << "temporary left behind after failing at " << phase_name(phase);
  }
}

TEST(Checkpoint, KillDashNineDuringAWriteNeverTearsTheFile) {
  auto dir = fresh_dir("ck_kill");
  Store store(dir.string());
  store.save(sample_checkpoint(1), {});
  for (auto phase : {WritePhase::kCreated, WritePhase::kTensorsWritten, WritePhase::kMetaWritten, WritePhase::kFlushed,
                     WritePhase::kRenamed}) {
    pid_t child = fork();
    if (child == 0) {
      Store s(dir.string());
      s.save(sample_checkpoint(2), {}, [&](WritePhase p) {
        if (p == phase) ::kill(::getpid(), SIGKILL);
      });
      _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status));
    Store s(dir.string());
    auto rp = s.newest_valid();
    ASSERT_TRUE(rp.has_value());
    EXPECT_TRUE(rp->skipped.empty());
    EXPECT_EQ(rp->checkpoint.meta.step, phase == WritePhase::kRenamed ? 2 : 1) << phase_name(phase);
    s.remove_stale_temporaries();
    fsys::remove(dir / step_file_name(2));
  }
}

TEST(Store, RetentionKeepsLastAndMilestones) {
  EXPECT_EQ(steps_to_delete({10, 20, 30, 40, 50}, {2, 0}), (std::vector<std::int64_t>{10, 20, 30}));
  EXPECT_EQ(steps_to_delete({10, 20, 30, 40, 50}, {2, 20}), (std::vector<std::int64_t>{10, 30}));
  EXPECT_EQ(steps_to_delete({5}, {1, 0}), (std::vector<std::int64_t>{}));
  EXPECT_EQ(step_file_name(1200), "step-00001200.h5");
  EXPECT_EQ(step_of_file_name("step-00001200.h5"), 1200);
  EXPECT_FALSE(step_of_file_name("step-00001200.h5.tmp.1.2").has_value());
  EXPECT_FALSE(step_of_file_name("latest").has_value());

  auto dir = fresh_dir("ck_store");
  Store s(dir.string());
  EXPECT_FALSE(s.newest_valid().has_value());
  for (int step : {10, 20, 30, 40}) s.save(sample_checkpoint(step), {2, 0});
  EXPECT_EQ(s.steps(), (std::vector<std::int64_t>{30, 40}));
  EXPECT_EQ(*s.latest(), (dir / "step-00000040.h5").string());
}

TEST(Store, ResumeFallsBackPastDamagedCheckpoints) {
  auto dir = fresh_dir("ck_fallback");
  Store s(dir.string());
  for (int step : {10, 20, 30}) s.save(sample_checkpoint(step), {5, 0});
  fsys::resize_file(dir / step_file_name(30), 200);
  auto rp = s.newest_valid();
  ASSERT_TRUE(rp.has_value());
  EXPECT_EQ(rp->checkpoint.meta.step, 20);
  ASSERT_EQ(rp->skipped.size(), 1u);
  EXPECT_NE(rp->skipped[0].find("step-00000030.h5"), std::string::npos);
  fsys::resize_file(dir / step_file_name(20), 200);
  fsys::resize_file(dir / step_file_name(10), 200);
  auto err = error_text([&] { s.newest_valid(); });
  EXPECT_NE(err.find("no checkpoint in"), std::string::npos) << err;
}

TEST(Store, ConfigDifferencesNameTheKeys) {
  auto d = config_differences({"optim.lr = 0.01", "model.name = drn_d_22", "data.seed = 1"},
                              {"optim.lr = 0.02", "model.name = drn_d_22", "train.steps = 5"});
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0], "data.seed: '1' in the checkpoint, (absent) now");
  EXPECT_EQ(d[1], "optim.lr: '0.01' in the checkpoint, '0.02' now");
  EXPECT_EQ(d[2], "train.steps: (absent) in the checkpoint, '5' now");
  EXPECT_EQ(config_digest({"a = 1", "b = 2"}), config_digest({"b = 2", "a = 1"}));
  EXPECT_NE(config_digest({"a = 1"}), config_digest({"a = 2"}));
}

TEST(RunLock, SecondTrainerIsRefusedAndStaleLocksAreTakenOver) {
  auto dir = fresh_dir("lock");
  LockOwner me{"hostA", ::getpid(), "", "now"};
  auto alive = default_owner_alive();
  {
    RunLock lock(dir.string(), me, alive);
    LockOwner other{"hostA", ::getpid(), "", "now"};  // same host, live pid: a real second trainer
    auto err = error_text([&] { RunLock second(dir.string(), other, alive); });
    EXPECT_NE(err.find("is in use by pid " + std::to_string(::getpid()) + " on hostA"), std::string::npos) << err;
  }
  EXPECT_FALSE(fsys::exists(dir / "LOCK"));  // released

  // A dead process on this host left its lock behind.
  pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  fs::write_atomic((dir / "LOCK").string(), owner_to_text({"hostA", child, "", "then"}));
  RunLock lock(dir.string(), me, alive);
  EXPECT_TRUE(lock.took_over_stale());
  EXPECT_EQ(lock.previous_owner().pid, child);
}

TEST(RunLock, RequeuedJobOnAnotherNodeTakesOverItsOwnLock) {
  auto dir = fresh_dir("lock_requeue");
  fs::write_atomic((dir / "LOCK").string(), owner_to_text({"node1", 4242, "777", "then"}));
  auto alive = default_owner_alive([](const std::string& job) { return job == "555"; });
  RunLock lock(dir.string(), {"node2", ::getpid(), "777", "now"}, alive);
  EXPECT_TRUE(lock.took_over_stale());
  fs::write_atomic((dir / "LOCK").string(), owner_to_text({"node1", 4242, "555", "then"}));  // job 555 still runs
  EXPECT_THROW(RunLock(dir.string(), {"node2", ::getpid(), "778", "now"}, alive), Error);
}
