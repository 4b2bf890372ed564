// Implements the pipeline config and its job graph (see pipeline_spec.hpp).
#include "slurm/pipeline_spec.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "core/error.hpp"
#include "core/parse.hpp"

namespace sdn::slurm {
namespace {

constexpr const char* kStagePrefix = "stage.";

// Keys of a [stage.NAME] section besides the input./set. families.
const std::vector<std::string> kStageKeys = {
    "config", "after", "mode", "partition", "gpus", "walltime", "throughput", "images_per_s", "estimate_note", "steps",
    "max_chunks", "scale_recipe", "train_command", "predict", "predict_partition", "predict_walltime", "predict_estimate", "branch"};
const std::vector<std::string> kPipelineKeys = {"pipeline.name", "pipeline.cluster", "pipeline.mode", "pipeline.account",
                                                "pipeline.walltime", "pipeline.shards", "pipeline.sdn_command",
                                                "pipeline.train_command", "pipeline.predict_command"};

bool valid_name(const std::string& n) {
  if (n.empty()) return false;
  for (char ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '-') return false;
  return true;
}

std::string resolve(const std::string& path, const std::string& base_dir) {
  if (path.empty() || path[0] == '/' || base_dir.empty()) return path;
  return base_dir + "/" + path;
}

std::string branch_of(const std::string& kind) {
  if (kind == "semantic") return "semantic";
  if (kind == "textural") return "textural";
  return "geometric";  // maskrcnn, derender
}

// Stage names in the order their sections appear.
std::vector<std::string> stage_names(const IniDoc& doc) {
  std::map<std::string, int> first;
  for (const auto& key : doc.keys()) {
    if (key.rfind(kStagePrefix, 0) != 0) continue;
    const auto rest = key.substr(std::string(kStagePrefix).size());
    const auto dot = rest.find('.');
    if (dot == std::string::npos) continue;
    const std::string name = rest.substr(0, dot);
    auto [it, fresh] = first.emplace(name, doc.line(key));
    if (!fresh) it->second = std::min(it->second, doc.line(key));
  }
  std::vector<std::pair<int, std::string>> ordered;
  for (const auto& [name, line] : first) ordered.emplace_back(line, name);
  std::sort(ordered.begin(), ordered.end());
  std::vector<std::string> out;
  for (const auto& o : ordered) out.push_back(o.second);
  return out;
}

PipelineStage read_stage(IniDoc& doc, const std::string& name, const std::string& base_dir) {
  PipelineStage s;
  s.name = name;
  const std::string sec = kStagePrefix + name + ".";
  if (!valid_name(name))
    doc.add_problem(doc.origin() + ": [stage." + name + "]: stage names are letters, digits, '_' and '-' only");
  for (const auto& key : doc.keys()) {
    if (key.rfind(sec, 0) != 0) continue;
    const std::string k = key.substr(sec.size());
    if (k.rfind("input.", 0) == 0 || k.rfind("set.", 0) == 0) continue;
    if (std::find(kStageKeys.begin(), kStageKeys.end(), k) == kStageKeys.end())
      doc.add_problem(doc.where(key) + ": unknown key '" + k + "' in [stage." + name + "] (known: " +
                      parse::join(kStageKeys, ", ") + ", input.KEY, set.KEY)");
  }
  if (doc.require(sec + "config", "the stage config of [stage." + name + "]")) {
    doc.read(sec + "config", s.config);
    s.config = resolve(s.config, base_dir);
    struct stat st {};
    if (::stat(s.config.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      doc.add_problem(doc.where(sec + "config") + ": stage config " + s.config + " does not exist");
    } else {
      IniDoc cfg = IniDoc::load(s.config);
      cfg.read("stage", s.stage_kind);
      if (s.stage_kind.empty()) s.stage_kind = "semantic";  // the trainer's default stage
    }
  }
  s.branch = branch_of(s.stage_kind);
  doc.read(sec + "branch", s.branch);
  doc.read(sec + "after", s.after);
  doc.read(sec + "mode", s.mode);
  doc.read(sec + "partition", s.partition);
  std::vector<std::string> gpus;
  if (doc.read(sec + "gpus", gpus))
    for (const auto& g : gpus) {
      int v = 0;
      if (parse::parse_value(g, v).empty() && v > 0)
        s.gpus.push_back(v);
      else
        doc.add_problem(doc.where(sec + "gpus") + ": gpus '" + g + "' is not a positive integer");
    }
  doc.read(sec + "walltime", s.walltime);
  doc.read(sec + "throughput", s.throughput);
  s.throughput = resolve(s.throughput, base_dir);
  doc.read(sec + "images_per_s", s.images_per_s);
  doc.read(sec + "estimate_note", s.estimate_note);
  doc.read(sec + "steps", s.steps);
  doc.read(sec + "max_chunks", s.max_chunks);
  doc.read(sec + "scale_recipe", s.scale_recipe);
  doc.read(sec + "train_command", s.train_command);
  doc.read(sec + "predict", s.predict_splits);
  doc.read(sec + "predict_partition", s.predict_partition);
  doc.read_duration(sec + "predict_walltime", s.predict_walltime_s);
  doc.read_duration(sec + "predict_estimate", s.predict_estimate_s);
  if (!s.mode.empty() && s.mode != "requeue" && s.mode != "chain")
    doc.add_problem(doc.where(sec + "mode") + ": mode must be requeue or chain");
  if (!s.throughput.empty() == (s.images_per_s > 0))
    doc.add_problem(doc.where(sec + "config") + ": [stage." + name +
                    "] needs exactly one throughput source: throughput = a run's journal.jsonl or a `sdn bench step` "
                    "JSON, or images_per_s = a stated estimate per GPU");
  for (const auto& split : s.predict_splits)
    if (!valid_name(split)) doc.add_problem(doc.where(sec + "predict") + ": split '" + split + "' is not a shard split name");
  if (s.predict_walltime_s < 60) doc.add_problem(doc.where(sec + "predict_walltime") + ": at least one minute");
  for (const auto& key : doc.keys()) {
    if (key.rfind(sec + "input.", 0) == 0) {
      StageInput in;
      in.key = key.substr((sec + "input.").size());
      const std::string v = doc.raw(key);
      const auto colon = v.find(':');
      in.from = parse::trim(v.substr(0, colon));
      in.what = colon == std::string::npos ? "" : parse::trim(v.substr(colon + 1));
      if (in.what != "checkpoint" && in.what != "predict")
        doc.add_problem(doc.where(key) + ": input '" + v + "' must be STAGE:checkpoint or STAGE:predict");
      s.inputs.push_back(in);
    } else if (key.rfind(sec + "set.", 0) == 0) {
      s.set.emplace_back(key.substr((sec + "set.").size()), doc.raw(key));
    }
  }
  return s;
}

// Dependency order; stages not ordered by an edge keep their file order. Cycles become problems.
std::vector<PipelineStage> order_stages(IniDoc& doc, std::vector<PipelineStage> stages) {
  std::map<std::string, std::set<std::string>> deps;
  for (const auto& s : stages) {
    for (const auto& in : s.inputs) deps[s.name].insert(in.from);
    for (const auto& a : s.after) deps[s.name].insert(a);
  }
  std::vector<PipelineStage> out;
  std::set<std::string> placed;
  while (out.size() < stages.size()) {
    bool progress = false;
    for (const auto& s : stages) {
      if (placed.count(s.name)) continue;
      bool ready = true;
      for (const auto& d : deps[s.name]) ready = ready && placed.count(d);
      if (!ready) continue;
      out.push_back(s);
      placed.insert(s.name);
      progress = true;
      break;  // restart from the top: file order among the ready ones
    }
    if (!progress) {
      std::vector<std::string> left;
      for (const auto& s : stages)
        if (!placed.count(s.name)) left.push_back(s.name);
      doc.add_problem(doc.origin() + ": the stages " + parse::join(left, ", ") +
                      " wait for each other (a cycle through their input./after keys)");
      for (const auto& s : stages)
        if (!placed.count(s.name)) out.push_back(s);
    }
  }
  return out;
}

}  // namespace

const PipelineStage* PipelineSpec::find(const std::string& n) const {
  for (const auto& s : stages)
    if (s.name == n) return &s;
  return nullptr;
}

PipelineSpec parse_pipeline(IniDoc doc, const std::string& base_dir) {
  PipelineSpec p;
  p.origin = doc.origin();
  for (const auto& key : doc.keys())
    if (key.rfind(kStagePrefix, 0) != 0 &&
        std::find(kPipelineKeys.begin(), kPipelineKeys.end(), key) == kPipelineKeys.end())
      doc.add_problem(doc.where(key) + ": unknown key '" + key + "' (known: [pipeline] " +
                      "name, cluster, mode, account, walltime, shards, sdn_command, train_command, predict_command, "
                      "and [stage.NAME] sections)");
  doc.read("pipeline.name", p.name);
  doc.read("pipeline.cluster", p.cluster);
  doc.read("pipeline.mode", p.mode);
  doc.read("pipeline.account", p.account);
  doc.read("pipeline.walltime", p.walltime);
  doc.read("pipeline.shards", p.shards);
  p.shards = resolve(p.shards, base_dir);
  doc.read("pipeline.sdn_command", p.sdn_command);
  doc.read("pipeline.train_command", p.train_command);
  doc.read("pipeline.predict_command", p.predict_command);
  if (!valid_name(p.name)) doc.add_problem(doc.where("pipeline.name") + ": letters, digits, '_' and '-' only");
  if (p.mode != "requeue" && p.mode != "chain") doc.add_problem(doc.where("pipeline.mode") + ": mode '" + p.mode + "' is not requeue or chain");
  std::vector<PipelineStage> stages;
  for (const auto& name : stage_names(doc)) stages.push_back(read_stage(doc, name, base_dir));
  if (stages.empty()) doc.add_problem(doc.origin() + ": no [stage.NAME] section");
  std::map<std::string, const PipelineStage*> by_name;
  for (const auto& s : stages) by_name[s.name] = &s;
  for (const auto& s : stages) {
    const std::string sec = kStagePrefix + s.name + ".";
    for (const auto& in : s.inputs) {
      auto it = by_name.find(in.from);
      if (it == by_name.end())
        doc.add_problem(doc.where(sec + "input." + in.key) + ": input from '" + in.from + "': no [stage." + in.from + "]");
      else if (in.from == s.name)
        doc.add_problem(doc.where(sec + "input." + in.key) + ": a stage cannot read its own output");
      else if (in.what == "predict" && it->second->predict_splits.empty())
        doc.add_problem(doc.where(sec + "input." + in.key) + ": " + in.from + " makes no predictions: give [stage." +
                        in.from + "] predict = SPLITS");
    }
    for (const auto& a : s.after)
      if (!by_name.count(a)) doc.add_problem(doc.where(sec + "after") + ": after '" + a + "': no [stage." + a + "]");
  }
  doc.throw_if_problems("pipeline config", "see configs/pipeline.ini for every key, and docs/pipeline.md");
  p.stages = order_stages(doc, stages);
  doc.throw_if_problems("pipeline config", "see configs/pipeline.ini for every key, and docs/pipeline.md");
  return p;
}

PipelineSpec load_pipeline(const std::string& path) {
  const auto slash = path.rfind('/');
  return parse_pipeline(IniDoc::load(path), slash == std::string::npos ? "." : path.substr(0, slash));
}

std::string render_pipeline(const PipelineSpec& p) {
  std::string o = "# Written by `sdn pipeline plan` from " + p.origin + "; read by `sdn pipeline submit|status|cancel`.\n";
  auto kv = [&](const std::string& k, const std::string& v) {
    if (!v.empty()) o += k + " = " + v + "\n";
  };
  auto num = [&](const std::string& k, double v) {
    if (v > 0) kv(k, parse::format_value(v));
  };
  o += "[pipeline]\n";
  kv("name", p.name);
  kv("cluster", p.cluster);
  kv("mode", p.mode);
  kv("account", p.account);
  kv("walltime", p.walltime);
  kv("shards", p.shards);
  kv("sdn_command", p.sdn_command);
  kv("train_command", p.train_command);
  kv("predict_command", p.predict_command);
  for (const auto& s : p.stages) {
    o += "\n[stage." + s.name + "]\n";
    kv("config", s.config);
    kv("branch", s.branch);
    kv("after", parse::join(s.after, ","));
    kv("mode", s.mode);
    kv("partition", s.partition);
    std::vector<std::string> gpus;
    for (int g : s.gpus) gpus.push_back(std::to_string(g));
    kv("gpus", parse::join(gpus, ","));
    kv("walltime", s.walltime);
    kv("throughput", s.throughput);
    num("images_per_s", s.images_per_s);
    kv("estimate_note", s.estimate_note);
    if (s.steps > 0) kv("steps", std::to_string(s.steps));
    if (s.max_chunks > 0) kv("max_chunks", std::to_string(s.max_chunks));
    kv("scale_recipe", s.scale_recipe);
    kv("train_command", s.train_command);
    kv("predict", parse::join(s.predict_splits, ","));
    kv("predict_partition", s.predict_partition);
    kv("predict_walltime", std::to_string(s.predict_walltime_s) + "s");
    if (s.predict_estimate_s > 0) kv("predict_estimate", std::to_string(s.predict_estimate_s) + "s");
    for (const auto& in : s.inputs) kv("input." + in.key, in.from + ":" + in.what);
    for (const auto& [k, v] : s.set) kv("set." + k, v);
  }
  return o;
}

std::vector<GraphNode> pipeline_graph(const PipelineSpec& spec) {
  std::vector<GraphNode> nodes;
  for (const auto& s : spec.stages) {
    GraphNode train{s.name, s.name, false, {}};
    auto add = [&](const std::string& id) {
      if (std::find(train.deps.begin(), train.deps.end(), id) == train.deps.end()) train.deps.push_back(id);
    };
    for (const auto& in : s.inputs) add(in.what == "predict" ? in.from + ".predict" : in.from);
    for (const auto& a : s.after) add(a);
    nodes.push_back(train);
    if (!s.predict_splits.empty()) nodes.push_back({s.name + ".predict", s.name, true, {s.name}});
  }
  return nodes;
}

std::string stage_run_dir(const std::string& pipeline_dir, const std::string& stage) { return pipeline_dir + "/" + stage; }

std::string stage_predict_dir(const std::string& pipeline_dir, const std::string& stage) {
  return stage_run_dir(pipeline_dir, stage) + "/predict";
}

std::string stage_config_text(const std::string& text, const PipelineSpec& spec, const PipelineStage& stage,
                              const std::string& pipeline_dir) {
  std::vector<std::pair<std::string, std::string>> values;
  if (!spec.shards.empty()) values.emplace_back("data.shards", spec.shards);
  for (const auto& kv : stage.set) values.push_back(kv);
  for (const auto& in : stage.inputs)
    values.emplace_back(in.key, in.what == "predict" ? stage_predict_dir(pipeline_dir, in.from)
                                                     : stage_run_dir(pipeline_dir, in.from));
  return set_ini_values(text, values);
}

}  // namespace sdn::slurm
