// Implements run_reduce_bench (see reduce_bench.hpp).
#include "dist/reduce_bench.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <thread>

#include "core/error.hpp"
#include "dist/mpi_check.hpp"
#include "dist/reducer_factory.hpp"

namespace sdn::dist {
namespace {

// Median over `iters` of the slowest rank's value of `measure` (after `warmup` untimed runs); `measure`
// returns the seconds to record.
double median_of(const Communicator& comm, int warmup, int iters, const std::function<double()>& measure) {
  std::vector<double> times;
  for (int i = 0; i < warmup + iters; ++i) {
    SDN_MPI_CHECK(MPI_Barrier(comm.comm()));
    double t = measure();
    SDN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, comm.comm()));
    if (i >= warmup) times.push_back(t);
  }
  std::nth_element(times.begin(), times.begin() + static_cast<long>(times.size() / 2), times.end());
  return times[times.size() / 2];
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Median of the slowest rank's wall time of `op`.
double median_seconds(const Communicator& comm, int warmup, int iters, const std::function<void()>& op) {
  return median_of(comm, warmup, iters, [&] {
    const auto t0 = std::chrono::steady_clock::now();
    op();
    return seconds_since(t0);
  });
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
    // As the trainer's optimizer.zero_grad(): in place, so gradients that live in a bucket stay there.
    for (auto& p : params)
      if (p.grad().defined()) p.mutable_grad().zero_();
    auto x = torch::zeros({1}, torch::requires_grad());
    for (size_t i = 0; i < params.size(); ++i) x = SpinLayer::apply(x, params[i], seconds[i], value, spin);
    x.sum().backward();
  }
};

ReduceBenchResult::Mode time_reducer(const Communicator& comm, Network& net, const ReduceBenchOptions& o,
                                     MpiProgress progress, bool views) {
  std::vector<NamedTensor> named;
  for (size_t i = 0; i < net.params.size(); ++i) named.push_back({"p" + std::to_string(i), net.params[i]});
  ReducerOptions ro;
  ro.bucket_cap_bytes = o.bucket_cap_bytes;
  ro.first_bucket_cap_bytes = o.first_bucket_cap_bytes;
  ro.mpi_progress = progress;
  ro.grad_as_bucket_view = views;
  ro.name = "bench";
  auto reducer = make_reducer(named, ro, comm);
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
    const double local = median_seconds(comm, o.warmup, o.iters, [&] { step(false); });
    const double synced = median_seconds(comm, o.warmup, o.iters, [&] { step(true); });
    return std::make_pair(local, synced);
  };
  ReduceBenchResult::Mode t;
  t.mode = progress;
  t.views = views;
  const auto [base, with_reduce] = measure(0.0);
  t.added_seconds = std::max(1e-9, with_reduce - base);
  // Fail loudly rather than report the speed of a wrong result.
  const double expected = (comm.size() + 1) / 2.0;
  for (auto& p : net.params)
    SDN_CHECK(std::abs(p.grad()[0].item<double>() - expected) < 1e-6 &&
                  std::abs(p.grad()[p.numel() - 1].item<double>() - expected) < 1e-6,
              "the reducer produced a wrong average in the benchmark");
  if (o.compute_seconds > 0) {
    const auto [compute, step_time] = measure(o.compute_seconds);
    t.hideable_seconds = std::min(compute, t.added_seconds);
    t.hidden_seconds = std::clamp(compute + t.added_seconds - step_time, 0.0, t.hideable_seconds);
  }
  return t;
}

// Fraction of an all-reduce of `buf` completed while the caller slept `sleep_s` seconds without MPI calls.
double done_while_sleeping(const Communicator& comm, torch::Tensor& buf, double blocking_s, double sleep_s,
                           bool thread, const ReduceBenchOptions& o) {
  const int count = static_cast<int>(buf.numel());
  const double wait_s = median_of(comm, o.warmup, o.iters, [&] {
    MPI_Request request = MPI_REQUEST_NULL;
    std::thread worker;
    if (thread) {
      worker = std::thread([&] { MPI_Allreduce(MPI_IN_PLACE, buf.data_ptr(), count, MPI_FLOAT, MPI_SUM, comm.comm()); });
    } else {
      SDN_MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, buf.data_ptr(), count, MPI_FLOAT, MPI_SUM, comm.comm(), &request));
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(sleep_s));
    const auto t0 = std::chrono::steady_clock::now();
    if (thread) {
      worker.join();
    } else {
      SDN_MPI_CHECK(MPI_Wait(&request, MPI_STATUS_IGNORE));
    }
    return seconds_since(t0);
  });
  return std::clamp(1.0 - wait_s / blocking_s, 0.0, 1.0);
}

}  // namespace

ReduceBenchResult run_reduce_bench(const Communicator& comm, const std::vector<int64_t>& numels,
                                   const ReduceBenchOptions& o) {
  ReduceBenchResult r;
  int64_t total = 0;
  for (int64_t n : numels) total += n;
  r.bytes = 4.0 * static_cast<double>(total);

  // The limit: one all-reduce of all bytes (chunked only to keep MPI's int counts valid).
  auto single = [&] {
    auto flat = torch::ones({total});
    return median_seconds(comm, o.warmup, o.iters, [&] {
      const int64_t chunk = 1LL << 28;
      for (int64_t off = 0; off < total; off += chunk)
        SDN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, flat.data_ptr<float>() + off,
                                    static_cast<int>(std::min(chunk, total - off)), MPI_FLOAT, MPI_SUM, comm.comm()));
    });
  };
  std::vector<double> singles = {single()};
  std::vector<torch::Tensor> grads;
  for (int64_t n : numels) grads.push_back(torch::ones({n}));
  r.per_tensor_seconds = median_seconds(comm, o.warmup, o.iters, [&] {
    for (auto& g : grads)
      SDN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, g.data_ptr(), static_cast<int>(g.numel()), MPI_FLOAT, MPI_SUM,
                                  comm.comm()));
  });
  grads.clear();

  Network net;
  for (int64_t n : numels) net.params.push_back(torch::zeros({n}, torch::requires_grad()));
  net.seconds.assign(numels.size(), 0.0);
  net.spin = o.spin;
  std::vector<std::vector<ReduceBenchResult::Mode>> rounds;  // [round][mode]
  for (int round = 0; round < std::max(1, o.rounds); ++round) {
    if (round > 0) singles.push_back(single());
    rounds.emplace_back();
    for (MpiProgress mode : o.modes) {
      rounds.back().push_back(time_reducer(comm, net, o, mode, /*views=*/true));
      if (o.also_copying) rounds.back().push_back(time_reducer(comm, net, o, mode, /*views=*/false));
    }
  }
  auto median = [](std::vector<double> v) {
    std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
    return v[v.size() / 2];
  };
  r.single_seconds = median(singles);
  r.modes = rounds.front();  // the overlap columns come from the first round
  for (size_t k = 0; k < r.modes.size(); ++k) {
    std::vector<double> added;
    for (size_t i = 0; i < rounds.size(); ++i) {
      added.push_back(rounds[i][k].added_seconds);
      r.modes[k].round_ratios.push_back(singles[i] / rounds[i][k].added_seconds);
    }
    r.modes[k].added_seconds = median(added);
    r.modes[k].ratio = median(r.modes[k].round_ratios);
  }
  net.params.clear();

  auto probe = torch::ones({std::max<int64_t>(1, std::min(o.bucket_cap_bytes, int64_t{4} * total) / 4)});
  r.probe_bytes = 4.0 * static_cast<double>(probe.numel());
  r.probe_blocking_seconds = median_seconds(comm, o.warmup, o.iters, [&] {
    SDN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, probe.data_ptr(), static_cast<int>(probe.numel()), MPI_FLOAT, MPI_SUM,
                                comm.comm()));
  });
  int level = MPI_THREAD_SINGLE;
  SDN_MPI_CHECK(MPI_Query_thread(&level));
  const double sleep_s = 2 * r.probe_blocking_seconds;
  r.probe_done_nonblocking = done_while_sleeping(comm, probe, r.probe_blocking_seconds, sleep_s, false, o);
  if (level >= MPI_THREAD_MULTIPLE)
    r.probe_done_thread = done_while_sleeping(comm, probe, r.probe_blocking_seconds, sleep_s, true, o);
  return r;
}

}  // namespace sdn::dist
