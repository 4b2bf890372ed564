// The state of a pipeline's job graph: per node (a stage's training or its prediction job) its phase, progress,
// jobs and remaining time, from the stage run's plan, journal and the queue; the gate a node's job passes before it
// starts (its inputs done, still being made, or lost); the pipeline's ETA along the graph; the status text.
// Pure functions of values the cli gathers, so graph order, resume and failure propagation are unit-tested.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/journal.hpp"
#include "slurm/pipeline_spec.hpp"
#include "slurm/run_dir.hpp"
#include "slurm/run_state.hpp"
#include "slurm/scheduler.hpp"

namespace sdn::slurm {

// A prediction job's record in the stage run's journal (predict_submit / _start / _end / _cancel).
struct PredictState {
  double submit_time = 0;
  std::vector<std::string> job_ids;
  double start = 0;             // of the newest start after the submit
  double end = 0;               // of its end (0: none)
  int exit_code = -1;
  std::string message;          // why it ended (a gate's stop)
  bool cancelled = false;
};
PredictState summarize_predict(const std::vector<journal::Event>& events);

// What the cli gathered for one node.
struct NodeInputs {
  GraphNode node;
  RunPlan plan;                     // the stage run's plan
  RunState state;                   // the stage run's journal
  PredictState predict;             // prediction nodes
  std::vector<QueueEntry> queue;    // this node's live jobs
  std::int64_t latest_step = 0;
  std::int64_t estimate_s = 0;      // prediction nodes: stated duration
  double service_units = 0;         // planned
};

struct NodeStatus {
  std::string id;
  bool predict = false;
  // complete | running | pending | waiting (on dependencies) | stopped | cancelled | failed | lost | stalled | planned
  std::string phase;
  std::string detail;               // why it stopped, or what it waits for
  std::vector<std::string> live_jobs;
  std::int64_t done = 0, total = 0;
  double remaining_s = 0;           // expected, from now (0 when complete or stopped)
  double gpu_hours_used = 0;
  double service_units = 0;
};

NodeStatus node_status(const NodeInputs& in, double now);

// done: complete; live: running, pending, waiting; everything else ends its dependents.
bool phase_is_live(const std::string& phase);

// The gate a node's job passes first. run: every dependency is complete; wait: none ended badly and some are
// live (`wait_for` = their queued jobs); stop: one of them stopped, failed, was cancelled or never ran (message
// names it and why).
struct GateDecision {
  std::string action;
  std::string message;
  std::vector<std::string> wait_for;
};
GateDecision decide_gate(const std::vector<NodeStatus>& dependencies);

// Expected finish of every node (in graph order) and of the pipeline: a node starts when all it waits for have
// finished (or now), and takes its remaining time. 0 for nodes that will not finish (a dependency stopped).
struct PipelineEta {
  std::vector<double> finish;
  double pipeline_finish = 0;       // 0: not expected to finish (a node stopped)
};
PipelineEta pipeline_eta(const std::vector<GraphNode>& graph, const std::vector<NodeStatus>& nodes, double now);

// One word for the whole pipeline: complete | stopped | running | pending | planned.
std::string pipeline_phase(const std::vector<NodeStatus>& nodes);

std::string render_pipeline_status(const PipelineSpec& spec, const std::string& pipeline_dir,
                                   const std::vector<GraphNode>& graph, const std::vector<NodeStatus>& nodes, double now);
// A one-line summary (what `--follow` prints per change when its output is not a terminal).
std::string render_pipeline_line(const std::vector<NodeStatus>& nodes, double now, const std::vector<GraphNode>& graph);

}  // namespace sdn::slurm
