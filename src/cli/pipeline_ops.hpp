// A pipeline directory as `sdn pipeline` works on it: PIPE/pipeline.ini (the normalised spec), one run directory
// per stage (PIPE/<stage>, planned by `sdn plan`), each prediction job's script in its run (jobs/predict.sbatch).
// Gathers every node's status from the runs' plans, journals and the queue; submits and cancels nodes.
#pragma once

#include <string>
#include <vector>

#include "slurm/pipeline_spec.hpp"
#include "slurm/pipeline_status.hpp"

namespace sdn::cli {

struct PipelineDir {
  std::string dir;                          // absolute
  slurm::PipelineSpec spec;
  std::vector<slurm::GraphNode> graph;
};

// Reads PIPE/pipeline.ini; a directory without one was not made by `sdn pipeline plan` (UsageError says so).
PipelineDir open_pipeline(const std::string& dir);

const slurm::GraphNode& find_node(const PipelineDir& p, const std::string& id);

// The node's status now. `queue_problem` (optional) receives squeue's error instead of throwing; the node then
// looks as if it had no queued jobs.
slurm::NodeStatus gather_node(const PipelineDir& p, const slurm::GraphNode& node, double now,
                              std::string* queue_problem = nullptr);
std::vector<slurm::NodeStatus> gather_nodes(const PipelineDir& p, double now, std::string* queue_problem = nullptr);

// Queues the node's job(s) after the jobs in `after` and journals the submission in the stage's run.
std::vector<std::string> submit_node(const PipelineDir& p, const slurm::GraphNode& node,
                                     const std::vector<std::string>& after);
// Journals the cancel, then scancels the node's jobs; returns their ids (empty: nothing was queued).
std::vector<std::string> cancel_node(const PipelineDir& p, const slurm::GraphNode& node);

// Records in the node's run that an earlier stage stopped it (what `sdn pipeline status` shows as its reason).
void record_upstream_stop(const PipelineDir& p, const slurm::GraphNode& node, const std::string& message);

// The job name of a stage's prediction job.
std::string predict_job_name(const slurm::RunPlan& plan);

}  // namespace sdn::cli
