// `sdn bench reduce` (run under mpirun -np 2): gradient all-reduce bandwidth of the bucketed reducer vs one
// MPI_Allreduce of the same bytes (the limit) and vs one all-reduce per tensor, for the semantic model's
// gradient sizes; optionally how much of the reduction hides behind a simulated backward. Prints one
// markdown table row for bench/RESULTS.md with the exact command.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <thread>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/exit_codes.hpp"
#include "core/options.hpp"
#include "core/parse.hpp"
#include "dist/abort.hpp"
#include "dist/mpi_check.hpp"
#include "dist/mpi_session.hpp"
#include "dist/reducer_factory.hpp"
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
           [](C& c) -> auto& { return c.compute_kind; }, opt::Choices{"sleep", "spin"});
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

// Median over `iters` of the slowest rank's time for `op` (after `warmup` untimed runs).
double median_seconds(const dist::Communicator& comm, int warmup, int iters, const std::function<void()>& op) {
  std::vector<double> times;
  for (int i = 0; i < warmup + iters; ++i) {
    SDN_MPI_CHECK(MPI_Barrier(comm.comm()));
    const auto t0 = std::chrono::steady_clock::now();
    op();
    double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    SDN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, comm.comm()));
    if (i >= warmup) times.push_back(t);
  }
  std::nth_element(times.begin(), times.begin() + static_cast<long>(times.size() / 2), times.end());
  return times[times.size() / 2];
}

void compute_for(double seconds, bool spin) {
  if (!spin) {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    return;
  }
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
  }
}

// One "layer" of the simulated network: forward passes x through; backward computes (spins or sleeps) for
// the layer's share of the backward time and yields a gradient of (rank + 1) for its parameter, so the reducer's
// average is known exactly: (world + 1) / 2.
struct SpinLayer : public torch::autograd::Function<SpinLayer> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w,
                               double seconds, double value, bool spin) {
    ctx->saved_data["seconds"] = seconds;
    ctx->saved_data["spin"] = spin;
    ctx->saved_data["value"] = value;
    ctx->saved_data["numel"] = w.numel();
    return x.clone();
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    compute_for(ctx->saved_data["seconds"].toDouble(), ctx->saved_data["spin"].toBool());
    auto gw = torch::full({ctx->saved_data["numel"].toInt()}, ctx->saved_data["value"].toDouble());
    return {grad[0], gw, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

struct Network {
  std::vector<torch::Tensor> params;  // flat float parameters, one per gradient size
  std::vector<double> seconds;        // backward compute per layer, proportional to its size
  bool spin = false;

  void backward(double value) {
    for (auto& p : params) p.mutable_grad() = torch::Tensor();  // AccumulateGrad then takes the new tensor
    auto x = torch::zeros({1}, torch::requires_grad());
    for (size_t i = 0; i < params.size(); ++i) x = SpinLayer::apply(x, params[i], seconds[i], value, spin);
    x.sum().backward();
  }
};

struct ReducerTimes {
  double added = 0;     // reduction time added to an instant backward
  double hidden = -1;   // seconds of it hidden behind the simulated backward (-1: not measured)
  double possible = 0;  // the most that could hide: min(backward, reduction)
};

ReducerTimes time_reducer(const dist::Communicator& comm, Network& net, const BenchReduceConfig& c,
                          dist::MpiProgress progress) {
  std::vector<dist::NamedTensor> named;
  for (size_t i = 0; i < net.params.size(); ++i) named.push_back({"p" + std::to_string(i), net.params[i]});
  dist::ReducerOptions o;
  parse::parse_size(c.cap, o.bucket_cap_bytes);
  parse::parse_size(c.first_cap, o.first_bucket_cap_bytes);
  o.mpi_progress = progress;
  auto reducer = dist::make_reducer(named, o, comm);
  const double value = comm.rank() + 1;
  auto step = [&](bool sync) {
    reducer->set_sync(sync);
    net.backward(value);
    reducer->finish();
  };
  // (backward without reduction, backward + reduction), both medians.
  auto measure = [&](double compute_seconds) {
    int64_t total = 0;
    for (auto& p : net.params) total += p.numel();
    for (size_t i = 0; i < net.params.size(); ++i)
      net.seconds[i] = compute_seconds * static_cast<double>(net.params[i].numel()) / static_cast<double>(total);
    const double local = median_seconds(comm, c.warmup, c.iters, [&] { step(false); });
    const double synced = median_seconds(comm, c.warmup, c.iters, [&] { step(true); });
    return std::make_pair(local, synced);
  };
  ReducerTimes t;
  const auto [base, with_reduce] = measure(0.0);
  t.added = std::max(1e-9, with_reduce - base);
  // The bench fails loudly rather than report the speed of a wrong result.
  const double expected = (comm.size() + 1) / 2.0;
  for (auto& p : net.params)
    SDN_CHECK(std::abs(p.grad()[0].item<double>() - expected) < 1e-6 &&
                  std::abs(p.grad()[p.numel() - 1].item<double>() - expected) < 1e-6,
              "reducer produced a wrong average in the benchmark");
  if (c.compute_ms > 0) {
    const auto [compute, step_time] = measure(c.compute_ms / 1000.0);
    t.possible = std::min(compute, t.added);
    t.hidden = std::clamp(compute + t.added - step_time, 0.0, t.possible);
  }
  return t;
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
  int64_t total = 0;
  for (int64_t n : sizes) total += n;
  const double bytes = 4.0 * static_cast<double>(total);
  const bool root = comm.rank() == 0;
  if (root && comm.size() == 1)
    std::fprintf(stderr, "warning: 1 rank: run under `mpirun -np 2` for a meaningful all-reduce\n");

  // (b) the limit: one all-reduce of all bytes; (c) one all-reduce per tensor.
  auto flat = torch::ones({total});
  const double t_single = median_seconds(comm, c.warmup, c.iters, [&] {
    const int64_t chunk = 1LL << 28;
    for (int64_t off = 0; off < total; off += chunk)
      SDN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, flat.data_ptr<float>() + off,
                                  static_cast<int>(std::min(chunk, total - off)), MPI_FLOAT, MPI_SUM, comm.comm()));
  });
  std::vector<torch::Tensor> grads;
  for (int64_t n : sizes) grads.push_back(torch::ones({n}));
  const double t_per_tensor = median_seconds(comm, c.warmup, c.iters, [&] {
    for (auto& g : grads)
      SDN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, g.data_ptr(), static_cast<int>(g.numel()), MPI_FLOAT, MPI_SUM,
                                  comm.comm()));
  });
  grads.clear();
  flat = torch::Tensor();

  // (a) the bucketed reducer, per progress mode.
  Network net;
  for (int64_t n : sizes) net.params.push_back(torch::zeros({n}, torch::requires_grad()));
  net.seconds.assign(sizes.size(), 0.0);
  net.spin = c.compute_kind == "spin";
  std::vector<std::pair<std::string, ReducerTimes>> modes;
  if (c.progress != "thread") modes.emplace_back("nonblocking", time_reducer(comm, net, c, dist::MpiProgress::kNonblocking));
  if (c.progress != "nonblocking") modes.emplace_back("thread", time_reducer(comm, net, c, dist::MpiProgress::kThread));
  if (!root) return kExitOk;

  std::string command = "mpirun -np " + std::to_string(comm.size()) + " sdn bench reduce";
  for (const auto& a : args) command += " " + a;
  std::printf("# %s: %d ranks, %zu tensors, %.1f M floats (%.0f MiB), cap %s, first cap %s, median of %d\n",
              command.c_str(), comm.size(), sizes.size(), static_cast<double>(total) / 1e6, bytes / 1048576.0,
              c.cap.c_str(), c.first_cap.c_str(), c.iters);
  std::string header = "| gradients | ranks | single MPI_Allreduce (limit) | per-tensor |";
  std::string rule = "|---|---|---|---|";
  char label[96];
  std::snprintf(label, sizeof label, "%zu tensors, %.1f M floats", sizes.size(), static_cast<double>(total) / 1e6);
  std::string row = "| " + std::string(label) + " | " + std::to_string(comm.size()) + " | " +
                    gb_per_s(bytes, t_single) + " | " + gb_per_s(bytes, t_per_tensor) + " (" +
                    ratio(t_single, t_per_tensor) + "x) |";
  for (const auto& [name, t] : modes) {
    header += " bucketed " + name + " |";
    rule += "---|";
    row += " " + gb_per_s(bytes, t.added) + " (" + ratio(t_single, t.added) + "x) |";
  }
  for (const auto& [name, t] : modes) {
    if (t.hidden < 0) continue;
    header += " overlap, " + name + " |";
    rule += "---|";
    char cell[96];
    std::snprintf(cell, sizeof cell, " %.0f of %.0f ms hideable (%.0f%%) |", t.hidden * 1e3, t.possible * 1e3,
                  100.0 * t.hidden / std::max(t.possible, 1e-9));
    row += cell;
  }
  std::printf("%s\n%s\n%s\n", header.c_str(), rule.c_str(), row.c_str());
  std::printf("(x = bandwidth relative to the single all-reduce; overlap = reduction time hidden behind a %d ms %s "
              "backward, of min(backward, reduction); command: `%s`)\n",
              c.compute_ms, c.compute_kind.c_str(), command.c_str());
  return kExitOk;
}

}  // namespace

int bench_reduce(const Args& args) {
  auto parsed = opt::parse<BenchReduceConfig>(schema(), args, validate);
  if (parsed.help) {
    std::fputs(parsed.usage.c_str(), stdout);
    return kExitOk;
  }
  const auto& c = parsed.config;
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
