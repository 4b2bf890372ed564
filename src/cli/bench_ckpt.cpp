// `sdn bench ckpt`: checkpoint save and load MB/s of a stage's model with its optimiser state (--config STAGE.ini;
// default the semantic stage's defaults, as configs/semantic.ini)
// through ckpt::write_checkpoint / read_checkpoint, vs dd writing and reading as many bytes on the same disk
// (the limit), vs torch.save / torch.load of the same state in Python (bench/ckpt_reference.py), in one run with
// the contenders interleaved. Every save is durable (fsync) and every file is evicted from the page cache
// before it is read. With --shards, also the signal-to-exit latency of `sdn train`; then the checkpoint
// overhead at the default period and the Young/Daly period for a stated MTBF.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "ckpt/checkpoint.hpp"
#include "ckpt/store.hpp"
#include "cli/bench_stats.hpp"
#include "cli/bench_stop_latency.hpp"
#include "cli/bench_support.hpp"
#include "cli/bench_train_step.hpp"
#include "cli/commands.hpp"
#include "cli/parse_command.hpp"
#include "cli/run_setup.hpp"
#include "core/error.hpp"
#include "core/exit_codes.hpp"
#include "core/fs.hpp"
#include "core/log.hpp"
#include "core/options.hpp"
#include "train/run_checkpoint.hpp"
#include "train/stage_registry.hpp"
#include "train/train_state.hpp"

namespace sdn::cli {
namespace {

struct BenchCkptConfig {
  train::TrainConfig train;  // the stage, its model and checkpoint period, as `sdn train` reads them
  std::string dir = ".";  // the disk under test; a scratch directory is made (and removed) inside
  int rounds = 3;
  int threads = 2;
  int height = 152;       // step-time input (and the trainer's short side in the latency trials)
  int width = 496;
  int steps = 2;          // timed training steps for the step time (after one that creates the momenta)
  std::string python = "/usr/bin/python3";
  std::string script;     // default: SDN_BENCH_DIR/ckpt_reference.py
  std::string dd = "dd";
  std::string shards;        // enables the signal-to-exit trials
  int trials = 5;
  double every_minutes = -1;  // default: ckpt.every_minutes of the train config
  double mtbf_hours = 24;
};

opt::Schema<BenchCkptConfig> schema(const Args& args) {
  using C = BenchCkptConfig;
  opt::Schema<C> s("bench ckpt", "Checkpoint MB/s (sdn vs dd vs torch.save/load), stop latency, overhead, of the "
                                 "stage in --config STAGE.ini (default: the semantic stage's defaults).");
  s.add("dir", "directory on the disk to measure", [](C& c) -> auto& { return c.dir; })
      .add("rounds", "save+load rounds per contender (interleaved; medians reported)",
           [](C& c) -> auto& { return c.rounds; }, opt::Range{1, 100})
      .add("threads", "intra-op threads (both sides)", [](C& c) -> auto& { return c.threads; }, opt::Range{1, 256})
      .add("height", "step-time input height; the trainer's short side in the latency trials",
           [](C& c) -> auto& { return c.height; }, opt::Range{8, 4096})
      .add("width", "step-time input width", [](C& c) -> auto& { return c.width; }, opt::Range{8, 4096})
      .add("steps", "timed training steps for the step time", [](C& c) -> auto& { return c.steps; }, opt::Range{1, 100})
      .add("python", "Python with torch (Debian's python3-torch)", [](C& c) -> auto& { return c.python; })
      .add("script", "the Python half (default: the source tree's bench/ckpt_reference.py)",
           [](C& c) -> auto& { return c.script; })
      .add("dd", "dd program (GNU coreutils: iflag=count_bytes, conv=fsync)", [](C& c) -> auto& { return c.dd; })
      .add("shards", "shards for the signal-to-exit trials of `sdn train` (none: skip them)",
           [](C& c) -> auto& { return c.shards; })
      .add("trials", "signal-to-exit trials", [](C& c) -> auto& { return c.trials; }, opt::Range{1, 100})
      .add("every-minutes", "checkpoint period to judge (default: the stage config's ckpt.every_minutes)",
           [](C& c) -> auto& { return c.every_minutes; })
      .add("mtbf-hours", "mean time between failures of a job, for the Young/Daly period",
           [](C& c) -> auto& { return c.mtbf_hours; }, opt::Range{0.01, 1e6});
  s.include(train::train_schema(train::stage_of_args(args)), [](C& c) -> train::TrainConfig& { return c.train; });
  return s;
}

std::vector<std::string> validate(const BenchCkptConfig& c) {
  std::vector<std::string> e;
  if (c.height % 8 || c.width % 8) e.push_back("height, width: must be multiples of 8");
  if (c.every_minutes == 0 || c.every_minutes < -1) e.push_back("every-minutes: must be positive");
  return e;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Save and load times of one contender, and the bytes it moved.
struct Contender {
  explicit Contender(std::string n) : name(std::move(n)) {}
  std::string name;
  double bytes = 0;
  std::vector<double> save, load;
};

std::string mb_per_s(double bytes, double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", bytes / 1e6 / seconds);
  return buf;
}

void print_overhead(const BenchCkptConfig& c, double save_s, const std::string& save_source, double step_s) {
  const double minutes = c.every_minutes > 0 ? c.every_minutes : c.train.ckpt.every_minutes;
  if (minutes <= 0) {
    std::printf("checkpoint overhead: the stage config has no time-based period (ckpt.every_minutes = 0); pass "
                "--every-minutes\n");
    return;
  }
  const double period = 60 * minutes, mtbf = 3600 * c.mtbf_hours;
  const double opt = bench::young_daly_period(save_s, mtbf);
  std::printf("| checkpoint period | steps between saves (%.2f s/step) | checkpoint overhead C/(T+C) | "
              "expected waste incl. rework, MTBF %.0f h |\n|---|---|---|---|\n", step_s, c.mtbf_hours);
  std::printf("| %.1f min (%s) | %.0f | %.3f%% | %.2f%% |\n", minutes,
              c.every_minutes > 0 ? "--every-minutes" : "ckpt.every_minutes", period / step_s,
              100 * bench::checkpoint_overhead(save_s, period), 100 * bench::expected_waste(save_s, period, mtbf));
  std::printf("| %.1f min (Young/Daly sqrt(2 C MTBF)) | %.0f | %.3f%% | %.2f%% |\n", opt / 60, opt / step_s,
              100 * bench::checkpoint_overhead(save_s, opt), 100 * bench::expected_waste(save_s, opt, mtbf));
  std::printf("(C = %.2f s: %s)\n", save_s, save_source.c_str());
}

}  // namespace

int bench_ckpt(const Args& args) {
  auto parsed = parse_command(schema(args), args, validate);
  if (!parsed) return kExitOk;
  const auto& c = *parsed;
  log::init("warn");
  const std::string script = bench::source_file("bench/ckpt_reference.py", c.script, "script");
  bench::ScratchDir scratch(c.dir, "sdn-bench-ckpt-");
  // The state a checkpoint of `sdn train` holds after some steps: model, optimiser state, RNG, metadata.
  torch::set_num_threads(c.threads);
  bench::TrainStep step(c.train, torch::kCPU, 2, c.height, c.width, {});
  const std::string model = step.stage().weights_name(step.stage().modules().front().first);
  std::printf("# %s\n# %s (%s stage) with its optimiser state, scratch %s, %d interleaved rounds\n",
              bench::command_line("sdn bench ckpt", args).c_str(), model.c_str(), c.train.stage.c_str(),
              scratch.path().c_str(), c.rounds);
  const std::string load_before = bench::load_note();
  std::fflush(stdout);

  bench::ChildOptions po;
  po.pipe_stdin = po.pipe_stdout = true;
  bench::Child py({c.python, script, "--model", model, "--dir", scratch.path(), "--threads", std::to_string(c.threads),
                   "--seed", std::to_string(c.train.train.seed)},
                  po);
  const std::string ready = py.read_line();
  if (ready.rfind("ready ", 0) != 0) throw Error(script + ": unexpected first line '" + ready + "'");
  auto ask = [&](const std::string& request) {
    py.write_line(request);
    auto reply = nlohmann::json::parse(py.read_line());
    if (reply.contains("error")) throw Error(script + ": " + reply["error"].get<std::string>());
    return reply;
  };

  step.run();
  std::vector<double> step_times;
  for (int i = 0; i < c.steps; ++i) step_times.push_back(step.run());
  train::CheckpointFacts facts;
  facts.step = 1 + c.steps;
  facts.loader_position = facts.step * c.train.train.global_batch;
  const ckpt::Checkpoint ck = train::make_checkpoint(step.stage(), c.train, train::resume_entries(c.train), facts,
                                                     train::rng_states(0, torch::kCPU));

  const std::string sdn_path = scratch.path() + "/sdn.h5", dd_path = scratch.path() + "/dd.bin";
  std::string torch_path;
  Contender sdn("sdn ckpt::write_checkpoint / read_checkpoint (CRC verified)");
  Contender dd("dd (the limit): if=/dev/zero conv=fsync / of=/dev/null, bs=4M");
  Contender pt("Python torch.save (+fsync, rename) / torch.load");
  std::vector<double> sdn_unverified;  // read_checkpoint(verify = false) times
  double resident = 0;
  auto run_dd = [&](const std::vector<std::string>& argv) {
    auto r = bench::run_timed(argv);
    if (r.exit_code != 0) throw Error("dd failed (exit code " + std::to_string(r.exit_code) + "): " + r.output);
    return r.seconds;
  };
  auto save_sdn = [&] {
    std::filesystem::remove(sdn_path);
    auto t0 = std::chrono::steady_clock::now();
    ckpt::write_checkpoint(sdn_path, ck);
    sdn.bytes = static_cast<double>(bench::file_bytes(sdn_path));
    return seconds_since(t0);
  };
  auto save_dd = [&] {  // as many bytes as sdn's file
    std::filesystem::remove(dd_path);
    const double s = run_dd({c.dd, "if=/dev/zero", "of=" + dd_path, "bs=4M", "iflag=count_bytes",
                             "count=" + std::to_string(static_cast<long long>(sdn.bytes)), "conv=fsync"});
    dd.bytes = static_cast<double>(bench::file_bytes(dd_path));
    return s;
  };
  auto save_torch = [&] {
    auto reply = ask("save");
    pt.bytes = reply.at("bytes").get<double>();
    torch_path = reply.at("path").get<std::string>();
    return reply.at("seconds").get<double>();
  };
  // One untimed save each first: sizes the dd file, and no contender pays for first-touch costs.
  save_sdn(), save_dd(), save_torch();
  for (int r = 0; r < c.rounds; ++r) {
    // Saves, each contender writing a new file (as checkpoint rotation does); the order rotates per round.
    for (int k = 0; k < 3; ++k) {
      switch ((k + r) % 3) {
        case 0: sdn.save.push_back(save_sdn()); break;
        case 1: dd.save.push_back(save_dd()); break;
        default: pt.save.push_back(save_torch());
      }
    }
    // Loads from the disk: each file is evicted from the page cache right before it is read.
    for (int k = 0; k < 3; ++k) {
      switch ((k + r) % 3) {
        case 0: {
          resident = std::max(resident, bench::drop_page_cache(sdn_path));
          auto t0 = std::chrono::steady_clock::now();
          auto back = ckpt::read_checkpoint(sdn_path, /*verify=*/true);
          sdn.load.push_back(seconds_since(t0));
          SDN_CHECK(back.tensors.size() == ck.tensors.size(), "checkpoint read back with a different tensor count");
          // The same read without the CRC pass, to show what verification costs.
          resident = std::max(resident, bench::drop_page_cache(sdn_path));
          t0 = std::chrono::steady_clock::now();
          ckpt::read_checkpoint(sdn_path, /*verify=*/false);
          sdn_unverified.push_back(seconds_since(t0));
          break;
        }
        case 1:
          resident = std::max(resident, bench::drop_page_cache(dd_path));
          dd.load.push_back(run_dd({c.dd, "if=" + dd_path, "of=/dev/null", "bs=4M"}));
          break;
        default:
          resident = std::max(resident, bench::drop_page_cache(torch_path));
          pt.load.push_back(ask("load").at("seconds").get<double>());
      }
    }
  }
  py.write_line("quit");
  py.wait();
  const std::string load_after = bench::load_note();

  std::printf("# %s before, %s after\n", load_before.c_str(), load_after.c_str());
  std::printf("# page cache: files fsynced, then evicted with posix_fadvise(DONTNEED) before each read; "
              "at most %.1f%% of a file's pages were still resident (mincore)\n", 100 * resident);
  std::printf("| path | file MB | save s (median) | save MB/s | vs dd | load s (median) | load MB/s | vs dd |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  const double dd_save = bench::median(dd.save), dd_load = bench::median(dd.load);
  for (const auto* x : {&dd, &sdn, &pt}) {
    const double s = bench::median(x->save), l = bench::median(x->load);
    std::printf("| %s | %.1f | %.3f | %s | %.2f | %.3f | %s | %.2f |\n", x->name.c_str(), x->bytes / 1e6, s,
                mb_per_s(x->bytes, s).c_str(), (x->bytes / s) / (dd.bytes / dd_save), l, mb_per_s(x->bytes, l).c_str(),
                (x->bytes / l) / (dd.bytes / dd_load));
  }
  const double unverified = bench::median(sdn_unverified);
  std::printf("(vs dd: MB/s as a fraction of dd's; MB = 10^6 bytes; sdn load without the CRC check: %.3f s, "
              "%s MB/s, %.2f of dd)\n", unverified, mb_per_s(sdn.bytes, unverified).c_str(),
              (sdn.bytes / unverified) / (dd.bytes / dd_load));
  const double step_s = bench::median(step_times);
  double save_s = bench::median(sdn.save);
  std::string save_source = "median ckpt::write_checkpoint time above";

  if (!c.shards.empty()) {
    // The trainer reads this benchmark's resolved stage config, with a batch one process can train.
    const std::string ini = scratch.path() + "/stage.ini";
    fs::write_atomic(ini, train::train_schema(c.train.stage).to_ini(c.train));
    bench::StopLatencyOptions so;
    so.train_argv = {bench::self_exe(), "train", "--config", ini, "--data.shards", c.shards,
                     "--train.threads", std::to_string(c.threads), "--train.log_every", "1",
                     "--train.global_batch", "2", "--train.per_rank_batch", "2",
                     "--ckpt.every_minutes", "0", "--ckpt.every_steps", "0", "--data.threads", "1"};
    // Stages that rescale their inputs train at the step-time input's short side.
    for (const auto& o : train::train_schema(c.train.stage).options())
      if (o.key == "augment.short_sides") so.train_argv.insert(so.train_argv.end(), {"--augment.short_sides", std::to_string(c.height)});
    so.scratch = scratch.path();
    so.trials = c.trials;
    so.seed = c.train.train.seed;
    so.global_batch = 2;
    auto trials = bench::measure_stop_latency(so);
    std::vector<double> lat, ck_s, rest, steps;
    for (const auto& t : trials) {
      lat.push_back(t.latency_seconds);
      ck_s.push_back(t.checkpoint_seconds);
      rest.push_back(t.latency_seconds - t.checkpoint_seconds);
      steps.push_back(t.step_seconds);
    }
    std::printf("\nsignal-to-exit of `sdn train` (%d trials, SIGUSR2 at a random moment of a step, 1 process, "
                "short side %d, batch 2; exit code 3 every time):\n", c.trials, c.height);
    std::printf("| SIGUSR2 -> exit s (median) | max | of which checkpoint s (median) | max | rest: finish the step, "
                "stop vote, exit (median) | trainer step s (median) |\n|---|---|---|---|---|---|\n");
    std::printf("| %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n", bench::median(lat), bench::maximum(lat),
                bench::median(ck_s), bench::maximum(ck_s), bench::median(rest), bench::median(steps));
    save_s = bench::median(ck_s);
    save_source = "median save of the trainer itself (journal checkpoint events: state collection + store.save)";
  }
  std::printf("\n");
  print_overhead(c, save_s, save_source, step_s);
  return kExitOk;
}

}  // namespace sdn::cli
