// `sdn bench render`: renders/s of the derenderer's differentiable renderer (models/derender/silhouette and
// raster_maps) at its render size (384²) for meshes of about 1k and 10k faces: the soft silhouette forward, its
// forward + backward (the reprojection loss's gradient with respect to the vertices), and the hard depth +
// normal maps of the test outputs. The mesh (a UV sphere, or sdn's generated sedan with as many cross-sections
// as it takes) fills 256 px of a 384 px render, as the training view's ROI does. Medians of per-call times.
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>

#include "cli/bench_stats.hpp"
#include "cli/bench_support.hpp"
#include "cli/commands.hpp"
#include "cli/parse_command.hpp"
#include "core/error.hpp"
#include "core/exit_codes.hpp"
#include "core/log.hpp"
#include "core/options.hpp"
#include "data/mesh_vehicles.hpp"
#include "models/derender/raster_maps.hpp"
#include "models/derender/silhouette.hpp"

namespace sdn::cli {
namespace {

namespace md = models::derender;

constexpr double kFocal = 725.0;        // vKITTI's focal: the render's half-angle is atan(size / (2 f)) at 384
constexpr double kRoiShare = 256.0 / 384.0;  // share of the render the object spans (image_size / render_size)

struct BenchRenderConfig {
  std::vector<int> faces = {1000, 10000};
  std::string mesh = "sphere";
  int size = 384;
  int batch = 1;
  int repeats = 5;
  int warmup = 1;
  double sigma = 1.0;
  int threads = 1;
  std::string device = "cpu";
};

opt::Schema<BenchRenderConfig> schema() {
  using C = BenchRenderConfig;
  opt::Schema<C> s("bench render",
                   "Renders/s of the derenderer's renderer: soft silhouette forward, forward+backward, depth+normal "
                   "maps, per mesh size.");
  s.add("faces", "approximate face counts of the meshes to time (comma list)", [](C& c) -> auto& { return c.faces; },
        opt::Range{8, 1e7})
      .add("mesh", "sphere (a UV sphere) or vehicle (sdn's generated sedan, more cross-sections for more faces)",
           [](C& c) -> auto& { return c.mesh; }, opt::Choices{"sphere", "vehicle"})
      .add("size", "render size in pixels (square)", [](C& c) -> auto& { return c.size; }, opt::Range{8, 4096})
      .add("batch", "objects per render call (renders/s counts objects)", [](C& c) -> auto& { return c.batch; },
           opt::Range{1, 1024})
      .add("repeats", "timed calls per measurement (the median is reported)", [](C& c) -> auto& { return c.repeats; },
           opt::Range{1, 1000})
      .add("warmup", "untimed calls first", [](C& c) -> auto& { return c.warmup; }, opt::Range{0, 100})
      .add("sigma", "silhouette edge sharpness in squared pixels (SilhouetteOptions::sigma)",
           [](C& c) -> auto& { return c.sigma; }, opt::Range{1e-3, 100})
      .add("threads", "LibTorch CPU threads", [](C& c) -> auto& { return c.threads; }, opt::Range{1, 256})
      .add("device", "cpu or cuda (GPU 0)", [](C& c) -> auto& { return c.device; }, opt::Choices{"cpu", "cuda"});
  return s;
}

// A UV sphere of diameter 1 with s segments and r bands, 2 s (r - 1) faces, s ~ sqrt(faces): near-equilateral
// triangles, outward.
data::Mesh sphere(int faces) {
  const int s = std::max(3, static_cast<int>(std::lround(std::sqrt(faces))));
  const int r = std::max(2, static_cast<int>(std::lround(faces / (2.0 * s))) + 1);
  data::Mesh m;
  m.name = "sphere";
  m.vertices.push_back({0, 0.5f, 0});
  for (int i = 1; i < r; ++i)
    for (int j = 0; j < s; ++j) {
      const double th = M_PI * i / r, ph = 2 * M_PI * j / s;
      m.vertices.push_back({static_cast<float>(0.5 * std::sin(th) * std::cos(ph)),
                            static_cast<float>(0.5 * std::cos(th)),
                            static_cast<float>(0.5 * std::sin(th) * std::sin(ph))});
    }
  const auto south = static_cast<std::int32_t>(m.vertices.size());
  m.vertices.push_back({0, -0.5f, 0});
  auto at = [&](int ring, int j) { return static_cast<std::int32_t>(1 + (ring - 1) * s + (j % s)); };
  for (int j = 0; j < s; ++j) {
    m.faces.push_back({0, at(1, j + 1), at(1, j)});
    m.faces.push_back({south, at(r - 1, j), at(r - 1, j + 1)});
    for (int i = 1; i + 1 < r; ++i) {
      m.faces.push_back({at(i, j), at(i, j + 1), at(i + 1, j + 1)});
      m.faces.push_back({at(i, j), at(i + 1, j + 1), at(i + 1, j)});
    }
  }
  return m;
}

// The generated sedan with the fewest cross-sections giving at least `faces` faces (or the most it can have).
data::Mesh vehicle(int faces) {
  auto make = [](int stations) {
    data::VehicleMeshOptions o;
    o.stations = stations;
    return data::vehicle_mesh(data::VehicleKind::kSedan, o);
  };
  int lo = 2, hi = 2;
  while (hi < (1 << 16) && static_cast<int>(make(hi).faces.size()) < faces) lo = hi, hi *= 2;
  while (lo + 1 < hi) {
    const int mid = (lo + hi) / 2;
    (static_cast<int>(make(mid).faces.size()) < faces ? lo : hi) = mid;
  }
  return make(hi);
}

// Camera-space vertices (camera at the origin looking along -z, y up) of `m` scaled to metres, turned 35° and
// placed so that its larger image extent spans kRoiShare of the render.
torch::Tensor posed_vertices(const data::Mesh& m, bool car, double tan_half) {
  auto v = torch::empty({static_cast<int64_t>(m.vertices.size()), 3}, torch::kFloat);
  auto a = v.accessor<float, 2>();
  const double scale[3] = {car ? 4.5 : 1.6, car ? 1.5 : 1.6, car ? 1.8 : 1.6}, yaw = 35 * M_PI / 180;
  double reach = 0;
  for (size_t i = 0; i < m.vertices.size(); ++i) {
    const double x = m.vertices[i][0] * scale[0], y = m.vertices[i][1] * scale[1], z = m.vertices[i][2] * scale[2];
    a[static_cast<int64_t>(i)][0] = static_cast<float>(std::cos(yaw) * x + std::sin(yaw) * z);
    a[static_cast<int64_t>(i)][1] = static_cast<float>(y);
    a[static_cast<int64_t>(i)][2] = static_cast<float>(-std::sin(yaw) * x + std::cos(yaw) * z);
    reach = std::max({reach, std::fabs(static_cast<double>(a[static_cast<int64_t>(i)][0])), std::fabs(y)});
  }
  const double depth = reach / (tan_half * kRoiShare);  // |x| / depth = tan_half * share at the widest point
  return v - torch::tensor({0.0f, 0.0f, static_cast<float>(depth)}).reshape({1, 3});
}

// Median seconds of `repeats` calls of `f` after `warmup` untimed ones, each ended by a device sync.
double median_seconds(const BenchRenderConfig& c, const torch::Device& device, const std::function<void()>& f) {
  auto sync = [&] {
    if (device.is_cuda()) torch::cuda::synchronize();
  };
  for (int i = 0; i < c.warmup; ++i) f(), sync();
  std::vector<double> t;
  for (int i = 0; i < c.repeats; ++i) {
    sync();
    const auto t0 = std::chrono::steady_clock::now();
    f();
    sync();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return bench::median(t);
}

torch::Device device_of(const BenchRenderConfig& c) {
  if (c.device == "cpu") return torch::kCPU;
  if (!torch::cuda::is_available())
    throw UsageError("--device cuda: this build's LibTorch sees no CUDA device",
                     "build with a CUDA LibTorch (-DSDN_WITH_CUDA=ON, see bench/gpu-check.sh) on a GPU machine");
  return {torch::kCUDA, 0};
}

}  // namespace

int bench_render(const Args& args) {
  auto parsed = parse_command(schema(), args);
  if (!parsed) return kExitOk;
  const auto& c = *parsed;
  log::init("warn");
  const torch::Device device = device_of(c);
  torch::set_num_threads(c.threads);
  torch::manual_seed(0);
  const double tan_half = 384.0 / (2 * kFocal);
  std::printf("# %s\n# %dx%d renders, batch %d, %d thread%s, %s, sigma %g px^2; median of %d timed calls after %d "
              "warm-up; %s\n",
              bench::command_line("sdn bench render", args).c_str(), c.size, c.size, c.batch, c.threads,
              c.threads == 1 ? "" : "s", c.device.c_str(), c.sigma, c.repeats, c.warmup, bench::load_note().c_str());
  std::printf("| mesh | faces | silhouette px | silhouette fwd, renders/s | silhouette fwd+bwd, renders/s | "
              "depth+normal maps, renders/s |\n|---|---|---|---|---|---|\n");
  std::fflush(stdout);
  const auto so = md::SilhouetteOptions().image_size(c.size).sigma(c.sigma);
  const auto ro = md::RasterMapsOptions().image_size(c.size);
  for (int target : c.faces) {
    const bool car = c.mesh == "vehicle";
    const data::Mesh mesh = car ? vehicle(target) : sphere(target);
    std::vector<int64_t> flat;
    for (const auto& f : mesh.faces) flat.insert(flat.end(), f.begin(), f.end());
    const auto faces = torch::tensor(flat, torch::kLong).reshape({-1, 3}).to(device);
    const auto verts = posed_vertices(mesh, car, tan_half).to(device);
    const std::vector<torch::Tensor> vs(static_cast<size_t>(c.batch), verts), fs(static_cast<size_t>(c.batch), faces);
    const std::vector<double> tans(static_cast<size_t>(c.batch), tan_half);

    torch::Tensor image;
    const double fwd = median_seconds(c, device, [&] { image = md::render_silhouettes(vs, fs, tans, so); });
    const double both = median_seconds(c, device, [&] {
      std::vector<torch::Tensor> leaves;
      for (const auto& v : vs) leaves.push_back(v.detach().requires_grad_());
      md::render_silhouettes(leaves, fs, tans, so).mean().backward();
    });
    const double maps = median_seconds(c, device, [&] { md::render_depth_normal(vs, fs, tans, ro); });
    const auto covered = (image[0] > 0.5).sum().item<int64_t>();
    std::printf("| %s | %zu | %lld | %.3g | %.3g | %.3g |\n", car ? "vehicle" : "sphere", mesh.faces.size(),
                static_cast<long long>(covered), c.batch / fwd, c.batch / both, c.batch / maps);
    std::fflush(stdout);
  }
  return kExitOk;
}

}  // namespace sdn::cli
