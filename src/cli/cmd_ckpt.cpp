// `sdn ckpt inspect FILE` prints a checkpoint's metadata; `sdn ckpt verify FILE...` checks every dataset's
// CRC-32 and exits 1 if any file is damaged; `sdn ckpt digest FILE` prints one CRC over the model tensors (equal
// digests = bit-identical weights); `sdn ckpt diff A B` compares two checkpoints tensor by tensor.
#include <cmath>
#include <cstdio>

#include "ckpt/checkpoint.hpp"
#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/exit_codes.hpp"
#include "core/parse.hpp"

namespace sdn::cli {
namespace {

bool is_model_tensor(const std::string& name) { return name.rfind("optim/", 0) != 0 && name.rfind("rng/", 0) != 0; }

std::string model_digest(const ckpt::Checkpoint& c) {
  std::string all;
  for (const auto& [name, t] : c.tensors) {  // std::map: sorted names, so the digest is order-independent
    if (!is_model_tensor(name)) continue;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%08x", ckpt::crc32_of(t.data_ptr(), static_cast<size_t>(t.nbytes())));
    all += name + ":" + buf + "\n";
  }
  char out[16];
  std::snprintf(out, sizeof out, "%08x", ckpt::crc32_of(all.data(), all.size()));
  return out;
}

int diff(const std::string& a_path, const std::string& b_path, double tol) {
  auto a = ckpt::read_checkpoint(a_path), b = ckpt::read_checkpoint(b_path);
  double worst = 0;
  std::string worst_name;
  int missing = 0;
  for (const auto& [name, ta] : a.tensors) {
    if (!is_model_tensor(name)) continue;
    auto it = b.tensors.find(name);
    if (it == b.tensors.end() || it->second.sizes() != ta.sizes()) {
      std::printf("%s: only in %s or of another shape\n", name.c_str(), a_path.c_str());
      ++missing;
      continue;
    }
    double d = ta.numel() == 0 ? 0 : (ta.to(torch::kDouble) - it->second.to(torch::kDouble)).abs().max().item<double>();
    if (d > worst) worst = d, worst_name = name;
  }
  std::printf("max |a-b| = %.3e%s%s (tolerance %.3e)\n", worst, worst_name.empty() ? "" : " at ", worst_name.c_str(), tol);
  return missing == 0 && worst <= tol ? kExitOk : kExitFailure;
}

}  // namespace

int run_ckpt(const Args& args) {
  const std::string usage =
      "usage: sdn ckpt inspect FILE       print the metadata of a checkpoint\n"
      "       sdn ckpt verify FILE...     check every dataset's CRC-32 (exit 1 if any file is damaged)\n"
      "       sdn ckpt digest FILE...     one CRC-32 over the model's parameters and buffers, per file\n"
      "       sdn ckpt diff A B [TOL]     largest |a-b| per model tensor group; exit 1 if above TOL (default 0)\n";
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(usage.c_str(), stdout);
    return args.empty() ? kExitUsage : kExitOk;
  }
  if (args.size() < 2) throw UsageError("sdn ckpt " + args[0] + ": a checkpoint file is required", usage);
  if (args[0] == "inspect") {
    for (size_t i = 1; i < args.size(); ++i) {
      auto meta = ckpt::read_meta(args[i]);
      std::printf("%s\n%s", args[i].c_str(), ckpt::describe(meta).c_str());
    }
    return kExitOk;
  }
  if (args[0] == "verify") {
    int bad = 0;
    for (size_t i = 1; i < args.size(); ++i) {
      auto problems = ckpt::verify_checkpoint(args[i]);
      if (problems.empty()) {
        std::printf("%s: OK\n", args[i].c_str());
      } else {
        ++bad;
        std::printf("%s: DAMAGED\n", args[i].c_str());
        for (const auto& p : problems) std::printf("  - %s\n", p.c_str());
      }
    }
    return bad == 0 ? kExitOk : kExitFailure;
  }
  if (args[0] == "digest") {
    for (size_t i = 1; i < args.size(); ++i) std::printf("%s  %s\n", model_digest(ckpt::read_checkpoint(args[i])).c_str(), args[i].c_str());
    return kExitOk;
  }
  if (args[0] == "diff") {
    if (args.size() < 3) throw UsageError("sdn ckpt diff needs two checkpoint files", usage);
    double tol = 0;
    if (args.size() > 3 && !parse::parse_value(args[3], tol).empty()) throw UsageError("TOL must be a number", usage);
    return diff(args[1], args[2], tol);
  }
  throw UsageError("unknown subcommand 'sdn ckpt " + args[0] + "'", usage);
}

}  // namespace sdn::cli
