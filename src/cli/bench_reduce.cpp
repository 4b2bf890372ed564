// `sdn bench reduce` (run under mpirun -np 2): gradient all-reduce bandwidth of the bucketed reducer vs one
// MPI_Allreduce of the same bytes (the limit) and vs one all-reduce per tensor, for the semantic model's
// gradient sizes; optionally how much of the reduction hides behind a simulated backward. Prints one
// markdown table row for bench/RESULTS.md with the exact command.
#include <algorithm>
#include <cstdio>

#include "cli/commands.hpp"
#include "cli/parse_command.hpp"
#include "core/error.hpp"
#include "core/exit_codes.hpp"
#include "core/options.hpp"
#include "core/parse.hpp"
#include "dist/abort.hpp"
#include "dist/mpi_session.hpp"
#include "dist/mpi_reducer.hpp"
#include "dist/reduce_bench.hpp"
#include "models/segmentation_model.hpp"

namespace sdn::cli {
namespace {

struct BenchReduceConfig {
  std::string model = "resnet50dilated8_ppm_deepsup";  // gradient sizes = this model's trainable parameters
  std::vector<std::string> sizes;                      // element counts ("2048x512x3x3" or "1000"); overrides model
  std::string total;                                   // total gradient bytes split evenly ("200M"); overrides model
  int tensors = 160;                                   // with --total: number of equal tensors
  std::string cap = "25M";
  std::string first_cap = "1M";
  std::string progress = "both";  // nonblocking | thread | both
  int iters = 10;
  int warmup = 2;
  int compute_ms = 300;  // simulated backward for the overlap measurement; 0 skips it
  std::string compute_kind = "sleep";  // sleep: the core is free (GPU-like); spin: the core is busy (CPU training)
  bool list_sizes = false;             // print the gradient sizes (for --sizes elsewhere) and exit
  bool copying = false;                // also measure the copying reducer path (gradients not bucket views)
  int rounds = 1;                      // rounds of [limit, every mode] in turn; ratios are per-round medians
};

opt::Schema<BenchReduceConfig> schema() {
  using C = BenchReduceConfig;
  opt::Schema<C> s("bench reduce", "All-reduce bandwidth: bucketed reducer vs one MPI_Allreduce vs per tensor.");
  s.add("model", "take the gradient sizes from this semantic model", [](C& c) -> auto& { return c.model; },
        models::semantic_model_names())
      .add("sizes", "gradient element counts, comma separated (AxBxC allowed); overrides --model",
           [](C& c) -> auto& { return c.sizes; })
      .add("total", "total gradient bytes (e.g. 200M) split into --tensors equal float tensors",
           [](C& c) -> auto& { return c.total; })
      .add("tensors", "tensor count for --total", [](C& c) -> auto& { return c.tensors; }, opt::Range{1, 100000})
      .add("cap", "reducer bucket cap", [](C& c) -> auto& { return c.cap; })
      .add("first-cap", "reducer first-bucket cap", [](C& c) -> auto& { return c.first_cap; })
      .add("progress", "MPI reducer progress modes to measure", [](C& c) -> auto& { return c.progress; },
           opt::Choices{"nonblocking", "thread", "both"})
      .add("iters", "timed repetitions (the median is reported)", [](C& c) -> auto& { return c.iters; },
           opt::Range{1, 10000})
      .add("warmup", "untimed repetitions first", [](C& c) -> auto& { return c.warmup; }, opt::Range{0, 1000})
      .add("compute-ms", "simulated backward compute for the overlap measurement (0 = skip)",
           [](C& c) -> auto& { return c.compute_ms; }, opt::Range{0, 600000})
      .add("compute-kind", "simulated backward: sleep (cores free, as when a GPU computes) or spin (cores busy)",
           [](C& c) -> auto& { return c.compute_kind; }, opt::Choices{"sleep", "spin"})
      .add("list-sizes", "print the gradient element counts as a --sizes value and exit",
           [](C& c) -> auto& { return c.list_sizes; })
      .add("copying", "also measure the copying reducer path (gradients copied into and out of the buckets)",
           [](C& c) -> auto& { return c.copying; })
      .add("rounds", "rounds of [single all-reduce, every mode] in turn; the ratios are medians of per-round ratios",
           [](C& c) -> auto& { return c.rounds; }, opt::Range{1, 1000});
  return s;
}

std::vector<std::string> validate(const BenchReduceConfig& c) {
  std::vector<std::string> e;
  int64_t bytes = 0;
  for (const auto& [key, text] : {std::pair<const char*, std::string>{"cap", c.cap}, {"first-cap", c.first_cap}}) {
    const auto err = parse::parse_size(text, bytes);
    if (!err.empty() || bytes <= 0) e.push_back(std::string(key) + ": '" + text + "' is not a positive size");
  }
  if (!c.total.empty() && (!parse::parse_size(c.total, bytes).empty() || bytes < 4 * c.tensors))
    e.push_back("total: '" + c.total + "' is not a size of at least 4 bytes per tensor");
  if (!c.sizes.empty() && !c.total.empty()) e.push_back("sizes, total: give one of them");
  for (const auto& item : c.sizes) {
    for (const auto& dim : parse::split(item, 'x')) {
      int64_t d = 0;
      if (!parse::parse_value(dim, d).empty() || d <= 0) {
        e.push_back("sizes: '" + item + "' is not an element count like 1000 or 512x256x3x3");
        break;
      }
    }
  }
  return e;
}

// Gradient element counts in parameter registration order.
std::vector<int64_t> gradient_sizes(const BenchReduceConfig& c) {
  std::vector<int64_t> out;
  if (!c.sizes.empty()) {
    for (const auto& item : c.sizes) {
      int64_t n = 1;
      for (const auto& dim : parse::split(item, 'x')) {
        int64_t d = 0;
        parse::parse_value(dim, d);
        n *= d;
      }
      out.push_back(n);
    }
  } else if (!c.total.empty()) {
    int64_t bytes = 0;
    parse::parse_size(c.total, bytes);
    out.assign(static_cast<size_t>(c.tensors), bytes / 4 / c.tensors);
  } else {
    models::SemanticModelOptions o;
    o.arch = c.model;
    auto model = models::build_semantic_model(o);
    for (const auto& p : model->trainable_parameters()) out.push_back(p.numel());
  }
  return out;
}

std::string gb_per_s(double bytes, double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GB/s", bytes / seconds / 1e9);
  return buf;
}

std::string ratio(double a, double b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", a / b);
  return buf;
}

int run(const BenchReduceConfig& c, const Args& args, const dist::Communicator& comm) {
  const auto sizes = gradient_sizes(c);
  if (comm.rank() == 0 && comm.size() == 1)
    std::fprintf(stderr, "warning: 1 rank: run under `mpirun -np 2` for a meaningful all-reduce\n");
  dist::ReduceBenchOptions o;
  parse::parse_size(c.cap, o.bucket_cap_bytes);
  parse::parse_size(c.first_cap, o.first_bucket_cap_bytes);
  o.modes.clear();
  if (c.progress != "thread") o.modes.push_back(dist::MpiProgress::kNonblocking);
  if (c.progress != "nonblocking") o.modes.push_back(dist::MpiProgress::kThread);
  o.iters = c.iters;
  o.warmup = c.warmup;
  o.compute_seconds = c.compute_ms / 1000.0;
  o.spin = c.compute_kind == "spin";
  o.also_copying = c.copying;
  o.rounds = c.rounds;
  const auto r = dist::run_reduce_bench(comm, sizes, o);
  if (comm.rank() != 0) return kExitOk;

  int64_t total = 0;
  for (int64_t n : sizes) total += n;
  std::string command = "mpirun -np " + std::to_string(comm.size()) + " sdn bench reduce";
  for (const auto& a : args) command += " " + a;
  std::printf("# %s: %d ranks, %zu tensors, %.1f M floats (%.0f MiB), cap %s, first cap %s, median of %d\n",
              command.c_str(), comm.size(), sizes.size(), static_cast<double>(total) / 1e6, r.bytes / 1048576.0,
              c.cap.c_str(), c.first_cap.c_str(), c.iters);
  std::string header = "| gradients | ranks | single MPI_Allreduce (limit) | per-tensor |";
  std::string rule = "|---|---|---|---|";
  char label[96];
  std::snprintf(label, sizeof label, "%zu tensors, %.1f M floats", sizes.size(), static_cast<double>(total) / 1e6);
  std::string row = "| " + std::string(label) + " | " + std::to_string(comm.size()) + " | " +
                    gb_per_s(r.bytes, r.single_seconds) + " | " + gb_per_s(r.bytes, r.per_tensor_seconds) + " (" +
                    ratio(r.single_seconds, r.per_tensor_seconds) + "x) |";
  auto mode_name = [](const dist::ReduceBenchResult::Mode& m) {
    return std::string(dist::to_string(m.mode)) + (m.views ? "" : ", copying");
  };
  for (const auto& m : r.modes) {
    header += " bucketed " + mode_name(m) + " |";
    rule += "---|";
    char x[16];
    std::snprintf(x, sizeof x, "%.2f", m.ratio);
    row += " " + gb_per_s(r.bytes, m.added_seconds) + " (" + x + "x) |";
  }
  for (const auto& m : r.modes) {
    if (m.hidden_seconds < 0) continue;
    header += " overlap, " + mode_name(m) + " |";
    rule += "---|";
    char cell[96];
    std::snprintf(cell, sizeof cell, " %.0f of %.0f ms hideable (%.0f%%) |", m.hidden_seconds * 1e3,
                  m.hideable_seconds * 1e3, 100.0 * m.hidden_seconds / std::max(m.hideable_seconds, 1e-9));
    row += cell;
  }
  std::printf("%s\n%s\n%s\n", header.c_str(), rule.c_str(), row.c_str());
  std::printf("progress probe (one %.0f MiB all-reduce, %.0f ms blocking; started, then %.0f ms without MPI calls): "
              "done meanwhile: MPI_Iallreduce %.0f%%",
              r.probe_bytes / 1048576.0, r.probe_blocking_seconds * 1e3, 2e3 * r.probe_blocking_seconds,
              100 * r.probe_done_nonblocking);
  if (r.probe_done_thread >= 0) std::printf(", communication thread %.0f%%", 100 * r.probe_done_thread);
  std::printf("\n");
  if (c.rounds > 1) {
    std::printf("per-round ratios to the single all-reduce:");
    for (const auto& m : r.modes) {
      std::printf(" %s", mode_name(m).c_str());
      for (double q : m.round_ratios) std::printf(" %.2f", q);
      std::printf(";");
    }
    std::printf("\n");
  }
  std::printf("(x = bandwidth relative to the single all-reduce, median of per-round ratios; overlap = reduction time hidden behind a %d ms %s "
              "backward, of min(backward, reduction); command: `%s`)\n",
              c.compute_ms, c.compute_kind.c_str(), command.c_str());
  return kExitOk;
}

}  // namespace

int bench_reduce(const Args& args) {
  auto parsed = parse_command(schema(), args, validate);
  if (!parsed) return kExitOk;
  const auto& c = *parsed;
  if (c.list_sizes) {
    std::string list;
    for (int64_t n : gradient_sizes(c)) list += (list.empty() ? "" : ",") + std::to_string(n);
    std::printf("%s\n", list.c_str());
    return kExitOk;
  }
  // The threaded reducer needs MPI_THREAD_MULTIPLE; the non-blocking one only FUNNELED.
  dist::MpiSession mpi(c.progress == "nonblocking" ? MPI_THREAD_FUNNELED : MPI_THREAD_MULTIPLE);
  dist::Communicator comm;
  try {
    return run(c, args, comm);
  } catch (const std::exception& e) {
    if (comm.size() == 1) throw;
    dist::abort_job(e.what(), kExitFailure);  // the other ranks may be inside a collective: end the job
  }
}

}  // namespace sdn::cli
