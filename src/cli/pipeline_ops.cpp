// Implements the pipeline directory operations (see pipeline_ops.hpp).
#include "cli/pipeline_ops.hpp"

#include <sys/stat.h>

#include <cstdio>

#include "cli/run_jobs.hpp"
#include "core/error.hpp"
#include "core/journal.hpp"
#include "core/parse.hpp"
#include "slurm/run_dir.hpp"
#include "slurm/scheduler.hpp"

namespace sdn::cli {

using namespace sdn::slurm;

namespace {

std::vector<journal::Event> events_of(const std::string& run_dir) {
  auto read = journal::read(journal::path_in(run_dir));
  for (const auto& p : read.problems) std::fprintf(stderr, "warning: %s\n", p.c_str());
  return read.events;
}

std::string predict_script(const std::string& run_dir) { return run_dir + "/jobs/predict.sbatch"; }

}  // namespace

std::string predict_job_name(const RunPlan& plan) { return plan.job_name + "-predict"; }

PipelineDir open_pipeline(const std::string& dir) {
  PipelineDir p;
  p.dir = absolute_path(dir);
  const std::string file = p.dir + "/pipeline.ini";
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0)
    throw UsageError(p.dir + " is not a pipeline directory (no pipeline.ini)",
                     "create it with `sdn pipeline plan --spec configs/pipeline.ini --dir " + p.dir + "`");
  p.spec = load_pipeline(file);
  p.graph = pipeline_graph(p.spec);
  return p;
}

const GraphNode& find_node(const PipelineDir& p, const std::string& id) {
  for (const auto& n : p.graph)
    if (n.id == id) return n;
  std::vector<std::string> ids;
  for (const auto& n : p.graph) ids.push_back(n.id);
  throw UsageError("pipeline " + p.dir + " has no node '" + id + "'", "its nodes: " + parse::join(ids, ", "));
}

NodeStatus gather_node(const PipelineDir& p, const GraphNode& node, double now, std::string* queue_problem) {
  const std::string run = stage_run_dir(p.dir, node.stage);
  NodeInputs in;
  in.node = node;
  in.plan = load_run_plan(run);
  const auto events = events_of(run);
  in.state = summarize(events);
  in.service_units = in.plan.service_units;
  if (node.predict) {
    in.predict = summarize_predict(events);
    const PipelineStage* s = p.spec.find(node.stage);
    in.estimate_s = s && s->predict_estimate_s > 0 ? s->predict_estimate_s : (s ? s->predict_walltime_s : 0);
    in.service_units = 0;
  }
  try {
    in.latest_step = latest_checkpoint_step(run);
  } catch (const Error& e) {
    std::fprintf(stderr, "warning: %s\n", e.message().c_str());
  }
  try {
    in.queue = squeue_by_name(node.predict ? predict_job_name(in.plan) : in.plan.job_name);
  } catch (const Error& e) {
    if (!queue_problem) throw;
    *queue_problem = e.message();
  }
  return node_status(in, now);
}

std::vector<NodeStatus> gather_nodes(const PipelineDir& p, double now, std::string* queue_problem) {
  std::vector<NodeStatus> out;
  for (const auto& n : p.graph) out.push_back(gather_node(p, n, now, queue_problem));
  return out;
}

std::vector<std::string> submit_node(const PipelineDir& p, const GraphNode& node, const std::vector<std::string>& after) {
  const std::string run = stage_run_dir(p.dir, node.stage);
  const RunPlan plan = load_run_plan(run);
  if (!node.predict) return submit_run_jobs(run, plan, after);
  const std::vector<std::string> ids = {sbatch_submit(predict_script(run), dependency_args(after))};
  auto e = journal::make(journal::kind::kPredictSubmit);
  e["job_ids"] = ids;
  if (!after.empty()) e["waits_for"] = after;
  journal::append(journal::path_in(run), e);
  return ids;
}

std::vector<std::string> cancel_node(const PipelineDir& p, const GraphNode& node) {
  const std::string run = stage_run_dir(p.dir, node.stage);
  const RunPlan plan = load_run_plan(run);
  if (!node.predict) {
    if (squeue_by_name(plan.job_name).empty()) return {};
    return cancel_run_jobs(run, plan);
  }
  std::vector<std::string> ids;
  for (const auto& q : squeue_by_name(predict_job_name(plan))) ids.push_back(q.job_id);
  if (ids.empty()) return {};
  auto e = journal::make(journal::kind::kPredictCancel);
  e["job_ids"] = ids;
  journal::append(journal::path_in(run), e);
  scancel_jobs(ids);
  return ids;
}

void record_upstream_stop(const PipelineDir& p, const GraphNode& node, const std::string& message) {
  const std::string path = journal::path_in(stage_run_dir(p.dir, node.stage));
  if (!node.predict) {
    auto e = journal::make(journal::kind::kRunEnd);
    e["reason"] = "upstream";
    e["message"] = message;
    journal::append(path, e);
    return;
  }
  auto start = journal::make(journal::kind::kPredictStart);
  journal::append(path, start);
  auto end = journal::make(journal::kind::kPredictEnd);
  end["exit_code"] = 1;
  end["message"] = message;
  journal::append(path, end);
}

}  // namespace sdn::cli
