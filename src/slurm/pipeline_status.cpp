// Implements the pipeline's graph state, gate and ETA (see pipeline_status.hpp).
#include "slurm/pipeline_status.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

#include "core/parse.hpp"
#include "slurm/plan.hpp"
#include "slurm/status_view.hpp"

namespace sdn::slurm {
namespace {

using journal::int_or;
using journal::number_or;
using journal::string_or;

std::vector<std::string> ids_of(const journal::Event& e) {
  std::vector<std::string> ids;
  if (auto it = e.find("job_ids"); it != e.end() && it->is_array())
    for (const auto& id : *it) ids.push_back(id.is_string() ? id.get<std::string>() : id.dump());
  return ids;
}

bool all_waiting_on_dependencies(const std::vector<QueueEntry>& queue) {
  if (queue.empty()) return false;
  for (const auto& q : queue)
    if (q.state != "PENDING" || q.reason.find("Dependency") == std::string::npos) return false;
  return true;
}

std::string queue_phase(const std::vector<QueueEntry>& queue) {
  for (const auto& q : queue)
    if (q.state == "RUNNING" || q.state == "COMPLETING") return "running";
  return all_waiting_on_dependencies(queue) ? "waiting" : "pending";
}

double hours_between(double start, double end, double now) { return start > 0 ? ((end > 0 ? end : now) - start) / 3600 : 0; }

}  // namespace

PredictState summarize_predict(const std::vector<journal::Event>& events) {
  PredictState p;
  for (const auto& e : events) {
    const std::string kind = string_or(e, "event", "");
    const double t = number_or(e, "time", 0);
    if (kind == journal::kind::kPredictSubmit) {
      p = PredictState{};
      p.submit_time = t;
      p.job_ids = ids_of(e);
    } else if (kind == journal::kind::kPredictStart) {
      p.start = t;
      p.end = 0;
      p.exit_code = -1;
      p.message.clear();
    } else if (kind == journal::kind::kPredictEnd && p.start > 0) {
      p.end = t;
      p.exit_code = static_cast<int>(int_or(e, "exit_code", -1));
      p.message = string_or(e, "message", "");
    } else if (kind == journal::kind::kPredictCancel) {
      p.cancelled = true;
    }
  }
  return p;
}

bool phase_is_live(const std::string& phase) { return phase == "running" || phase == "pending" || phase == "waiting"; }

NodeStatus node_status(const NodeInputs& in, double now) {
  NodeStatus n;
  n.id = in.node.id;
  n.predict = in.node.predict;
  n.service_units = in.service_units;
  for (const auto& q : in.queue) n.live_jobs.push_back(q.job_id);
  if (!in.node.predict) {
    StatusInputs si;
    si.plan = in.plan;
    si.state = in.state;
    si.queue = in.queue;
    si.latest_step = in.latest_step;
    si.now = now;
    n.phase = run_phase(si);
    if (n.phase == "pending" && all_waiting_on_dependencies(in.queue)) n.phase = "waiting";
    n.total = in.state.total_steps > 0 ? in.state.total_steps : in.plan.total_steps;
    n.done = in.state.complete ? n.total : in.latest_step;
    if (n.phase == "stopped" || n.phase == "cancelled")
      n.detail = (in.state.end_reason.empty() ? std::string("cancelled") : in.state.end_reason) +
                 (in.state.end_message.empty() ? "" : ": " + in.state.end_message);
    for (const auto& c : in.state.chunks) n.gpu_hours_used += hours_between(c.start, c.end, now) * in.plan.gpus;
    if (n.phase != "complete" && n.total > n.done) {
      const double rate = recent_steps_per_s(in.state);
      const double left = static_cast<double>(n.total - n.done);
      if (rate > 0)
        n.remaining_s = left / rate;
      else if (in.plan.images_per_s > 0 && in.plan.total_steps > 0 && in.plan.elapsed_s > 0)
        n.remaining_s = static_cast<double>(in.plan.elapsed_s) * left / static_cast<double>(in.plan.total_steps);
    }
    return n;
  }
  const PredictState& p = in.predict;
  n.total = 1;
  n.done = 0;
  n.gpu_hours_used = hours_between(p.start, p.end, now) * in.plan.gpus;
  if (!in.queue.empty()) {
    n.phase = queue_phase(in.queue);
  } else if (p.end > 0 && p.exit_code == 0 && p.end >= p.submit_time) {
    n.phase = "complete";
    n.done = 1;
  } else if (p.cancelled) {
    n.phase = "cancelled";
  } else if (p.end > 0) {
    n.phase = "failed";
    n.detail = !p.message.empty() ? p.message
                                  : "`sdn predict` exited with " + std::to_string(p.exit_code) + " (see the stage's logs/" +
                                        in.plan.job_name + "-predict-*.out)";
  } else if (p.start > 0) {
    n.phase = "lost";
    n.detail = "the prediction job ended without recording its end (time limit or node failure?)";
  } else if (p.submit_time > 0) {
    n.phase = "stalled";
    n.detail = "the prediction job left the queue without starting";
  } else {
    n.phase = "planned";
  }
  if (n.phase != "complete") n.remaining_s = static_cast<double>(in.estimate_s);
  return n;
}

GateDecision decide_gate(const std::vector<NodeStatus>& deps) {
  GateDecision g{"run", "", {}};
  for (const auto& d : deps) {
    if (d.phase == "complete") continue;
    if (phase_is_live(d.phase)) {
      g.wait_for.insert(g.wait_for.end(), d.live_jobs.begin(), d.live_jobs.end());
      continue;
    }
    g.action = "stop";
    g.message = "earlier stage " + d.id + " is " + d.phase +
                (d.phase == "planned" ? " (never submitted: run `sdn pipeline submit`)" : "") +
                (d.detail.empty() ? "" : " (" + d.detail + ")");
    g.wait_for.clear();
    return g;
  }
  if (!g.wait_for.empty()) {
    g.action = "wait";
    g.message = "waiting for job(s) " + parse::join(g.wait_for, ", ") + " of earlier stages";
  }
  return g;
}

PipelineEta pipeline_eta(const std::vector<GraphNode>& graph, const std::vector<NodeStatus>& nodes, double now) {
  PipelineEta eta;
  std::map<std::string, double> finish;  // 0: will not finish
  bool blocked = false;
  for (std::size_t i = 0; i < graph.size(); ++i) {
    const auto& n = nodes[i];
    double f = 0;
    if (n.phase == "complete") {
      f = now;
    } else if (phase_is_live(n.phase) || n.phase == "planned") {  // planned: before submitting, the plan's ETA
      f = now;
      for (const auto& d : graph[i].deps) f = (f > 0 && finish[d] > 0) ? std::max(f, finish[d]) : 0;
      if (f > 0) f += n.remaining_s;
    }
    blocked = blocked || f <= 0;
    finish[graph[i].id] = f;
    eta.finish.push_back(f);
  }
  if (!blocked)
    for (double f : eta.finish) eta.pipeline_finish = std::max(eta.pipeline_finish, f);
  return eta;
}

std::string pipeline_phase(const std::vector<NodeStatus>& nodes) {
  bool all_complete = true, any_live = false, any_dead = false, any_running = false, all_planned = true;
  for (const auto& n : nodes) {
    all_complete = all_complete && n.phase == "complete";
    any_live = any_live || phase_is_live(n.phase);
    any_running = any_running || n.phase == "running";
    all_planned = all_planned && n.phase == "planned";
    any_dead = any_dead || (!phase_is_live(n.phase) && n.phase != "complete" && n.phase != "planned");
  }
  if (all_complete) return "complete";
  if (any_running) return "running";
  if (any_live) return "pending";
  if (any_dead) return "stopped";
  return all_planned ? "planned" : "stopped";
}

std::string render_pipeline_status(const PipelineSpec& spec, const std::string& dir, const std::vector<GraphNode>& graph,
                                   const std::vector<NodeStatus>& nodes, double now) {
  const PipelineEta eta = pipeline_eta(graph, nodes, now);
  std::string o = "pipeline " + spec.name + " (" + dir + "), cluster " + spec.cluster + "\n";
  char line[512];
  std::snprintf(line, sizeof line, "  %-24s %-10s %-38s %-16s %s\n", "node", "state", "progress", "ETA", "jobs");
  o += line;
  double su = 0, used = 0;
  int complete = 0;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const auto& n = nodes[i];
    su += n.service_units;
    used += n.gpu_hours_used;
    complete += n.phase == "complete";
    const std::string progress = n.predict ? (n.phase == "complete" ? "predictions written" : "")
                                           : progress_bar(n.done, n.total);
    const std::string when = n.phase == "complete" ? "done"
                             : eta.finish[i] > 0   ? clock_text(eta.finish[i])
                                                   : "-";
    std::snprintf(line, sizeof line, "  %-24s %-10s %-38s %-16s %s\n", n.id.c_str(), n.phase.c_str(), progress.c_str(),
                  when.c_str(), parse::join(n.live_jobs, " ").c_str());
    o += line;
    if (!n.detail.empty()) o += "  " + std::string(24, ' ') + " why: " + n.detail + "\n";
    else if (n.phase == "waiting" && !graph[i].deps.empty())
      o += "  " + std::string(24, ' ') + " after: " + parse::join(graph[i].deps, ", ") + "\n";
  }
  const std::string phase = pipeline_phase(nodes);
  std::snprintf(line, sizeof line, "pipeline: %s, %d/%zu nodes done", phase.c_str(), complete, nodes.size());
  o += line;
  if (phase != "complete" && eta.pipeline_finish > 0)
    o += ", ETA " + clock_text(eta.pipeline_finish) + " (in " +
         format_span(static_cast<std::int64_t>(eta.pipeline_finish - now)) + ")";
  else if (phase == "stopped")
    o += "; a stopped node holds up the rest: fix its cause, then `sdn pipeline submit " + dir + "` resumes";
  std::snprintf(line, sizeof line, "; planned %.1f SUs, %.2f GPU-hours used\n", su, used);
  o += line;
  return o;
}

std::string render_pipeline_line(const std::vector<NodeStatus>& nodes, double now, const std::vector<GraphNode>& graph) {
  const PipelineEta eta = pipeline_eta(graph, nodes, now);
  std::vector<std::string> parts;
  for (const auto& n : nodes) {
    if (n.phase == "complete" || n.phase == "planned") continue;
    std::string p = n.id + " " + n.phase;
    if (!n.predict && n.total > 0 && phase_is_live(n.phase))
      p += " " + std::to_string(n.done) + "/" + std::to_string(n.total);
    parts.push_back(p);
  }
  int complete = 0;
  for (const auto& n : nodes) complete += n.phase == "complete";
  std::string o = pipeline_phase(nodes) + " " + std::to_string(complete) + "/" + std::to_string(nodes.size()) + " done";
  if (!parts.empty()) o += ": " + parse::join(parts, ", ");
  if (eta.pipeline_finish > 0 && pipeline_phase(nodes) != "complete")
    o += "; ETA in " + format_span(static_cast<std::int64_t>(eta.pipeline_finish - now));
  return o;
}

}  // namespace sdn::slurm
