// Implements the run directory helpers (see run_dir.hpp).
#include "slurm/run_dir.hpp"

#include <sys/stat.h>

#include <cctype>
#include <cstdio>
#include <filesystem>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/parse.hpp"
#include "core/rng.hpp"
#include "slurm/run_state.hpp"

namespace sdn::slurm {

std::string render_plan_ini(const RunPlan& p) {
  std::string o = "# Written by `sdn plan`; read by `sdn submit`, `sdn status`, `sdn cancel`.\n[plan]\n";
  auto kv = [&](const std::string& k, const std::string& v) { o += k + " = " + v + "\n"; };
  kv("stage", p.stage);
  kv("cluster", p.cluster);
  kv("mode", p.mode);
  kv("job_name", p.job_name);
  kv("script", p.script);
  kv("partition", p.partition);
  kv("nodes", std::to_string(p.nodes));
  kv("gpus", std::to_string(p.gpus));
  kv("walltime", parse::format_walltime(p.walltime_s));
  kv("grace_s", std::to_string(p.grace_s));
  kv("chunks", std::to_string(p.chunks));
  kv("max_chunks", std::to_string(p.max_chunks));
  kv("chain_jobs", std::to_string(p.chain_jobs));
  kv("reshape", p.reshape ? "true" : "false");
  kv("total_steps", std::to_string(p.total_steps));
  kv("images_per_s", parse::format_value(p.images_per_s));
  kv("elapsed_s", std::to_string(p.elapsed_s));
  kv("service_units", parse::format_value(p.service_units));
  kv("planned_at", std::to_string(p.planned_at));
  return o;
}

RunPlan parse_plan_ini(IniDoc doc) {
  RunPlan p;
  for (const char* k : {"plan.mode", "plan.job_name", "plan.script", "plan.partition", "plan.gpus", "plan.max_chunks"})
    doc.require(k, "written by sdn plan");
  doc.read("plan.stage", p.stage);
  doc.read("plan.cluster", p.cluster);
  doc.read("plan.mode", p.mode);
  doc.read("plan.job_name", p.job_name);
  doc.read("plan.script", p.script);
  doc.read("plan.partition", p.partition);
  doc.read("plan.nodes", p.nodes);
  doc.read("plan.gpus", p.gpus);
  doc.read_duration("plan.walltime", p.walltime_s);
  doc.read("plan.grace_s", p.grace_s);
  doc.read("plan.chunks", p.chunks);
  doc.read("plan.max_chunks", p.max_chunks);
  doc.read("plan.chain_jobs", p.chain_jobs);
  doc.read("plan.reshape", p.reshape);
  doc.read("plan.total_steps", p.total_steps);
  doc.read("plan.images_per_s", p.images_per_s);
  doc.read("plan.elapsed_s", p.elapsed_s);
  doc.read("plan.service_units", p.service_units);
  doc.read("plan.planned_at", p.planned_at);
  if (p.mode != "requeue" && p.mode != "chain") doc.add_problem(doc.where("plan.mode") + ": mode must be requeue|chain");
  doc.throw_if_problems("run plan", "re-run `sdn plan` for this run directory");
  return p;
}

RunPlan load_run_plan(const std::string& run_dir) {
  std::string path = run_dir + "/jobs/plan.ini";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw UsageError(run_dir + " is not a planned run directory (no jobs/plan.ini)",
                     "create it with `sdn plan --stage STAGE.ini --cluster NAME --run-dir " + run_dir + " ...`");
  return parse_plan_ini(IniDoc::load(path));
}

void create_run_layout(const std::string& run_dir) {
  for (const char* sub : {"", "/jobs", "/ckpt", "/logs"}) fs::ensure_writable_dir(run_dir + sub);
}

std::string absolute_path(const std::string& path) {
  return std::filesystem::absolute(std::filesystem::path(path)).lexically_normal().string();
}

std::string job_name_for(const std::string& stage, const std::string& abs_run_dir) {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a, then mixed: stable across runs and machines
  for (unsigned char ch : abs_run_dir) h = (h ^ ch) * 0x100000001b3ULL;
  char hex[16];
  std::snprintf(hex, sizeof hex, "%06llx", static_cast<unsigned long long>(mix64(h) & 0xffffff));
  std::string clean;
  for (char ch : stage) clean += std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' ? ch : '_';
  return "sdn-" + (clean.empty() ? std::string("run") : clean) + "-" + hex;
}

std::int64_t latest_checkpoint_step(const std::string& run_dir) {
  std::string path = run_dir + "/ckpt/latest";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  std::string text = fs::read_file(path);
  std::int64_t step = parse_latest_pointer(text);
  if (step < 0)
    throw Error(path + " does not name a checkpoint (expected step-%08d.h5, got '" + parse::trim(text) + "')",
                "the trainer writes this pointer; remove it only if the run should start from scratch");
  return step;
}

}  // namespace sdn::slurm
