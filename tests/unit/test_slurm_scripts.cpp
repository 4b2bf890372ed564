// Generated text against golden files in tests/golden/: sbatch scripts (Expanse requeue, local chain), the
// galyleo command, the Lua and Tcl modulefiles, and the local cluster's slurm.conf/gres.conf.
// On a mismatch the test prints a unified diff. After an intended change, regenerate every golden with
//   SDN_UPDATE_GOLDEN=1 ctest --test-dir build -R test_slurm
// and review `git diff tests/golden`.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "golden_util.hpp"
#include "slurm/cluster_profile.hpp"
#include "slurm/job_script.hpp"
#include "slurm/local_cluster.hpp"
#include "slurm/modulefile.hpp"
#include "slurm/plan.hpp"
#include "slurm/run_setup.hpp"

using namespace sdn::slurm;

namespace {

using sdn_test::expect_golden;
using sdn_test::expect_golden_at;

std::string source_dir() { return sdn_test::golden_source_dir(); }

// Expanse examples are also kept in slurm/examples/ for readers; they must not drift from the goldens.
void expect_golden_and_example(const std::string& name, const std::string& actual) {
  expect_golden(name, actual);
  expect_golden_at(source_dir() + "/slurm/examples/" + name, name, actual);
}

// A 48-hour-per-job, 3-chunk run on one exclusive Expanse node.
Candidate expanse_candidate(const ClusterProfile& cl) {
  PlanInputs in;
  in.work = {"semantic", 400000, 8, 2};
  in.images_per_s_per_gpu = 4.0;
  parse_scaling("1:1,4:0.9", in.scaling);
  in.ckpt_seconds = 40;
  in.now = 0;
  return evaluate_shape(cl, in, Shape{"gpu", 1, 4, 4, 48 * 3600}, 0);
}

}  // namespace

TEST(SlurmGolden, ExpanseRequeueScript) {
  auto cl = parse_cluster_profile(IniDoc::load(source_dir() + "/configs/clusters/expanse.ini"));
  Candidate c = expanse_candidate(cl);
  ASSERT_TRUE(c.feasible) << c.why_not;
  JobChoices ch;
  ch.mode = "requeue";
  ch.run_dir = "/expanse/lustre/projects/abc123/user/runs/semantic-drn";
  ch.job_name = "sdn-semantic-1a2b3c";
  ch.max_chunks = max_chunks_for(c.chunks);
  ch.sdn_command = cl.sdn_command;
  ch.stage = "semantic";
  ch.total_steps = 400000;
  JobSpec j = make_job_spec(cl, c, ch);
  ASSERT_TRUE(validate_job_spec(j).empty());
  std::string text = render_sbatch(j);
  // Fixed facts the golden must keep, checked independently of it.
  EXPECT_NE(text.find("#SBATCH --signal=B:USR2@" + std::to_string(c.grace_s) + "\n"), std::string::npos);
  EXPECT_NE(text.find("#SBATCH --requeue\n"), std::string::npos);
  EXPECT_NE(text.find("#SBATCH --open-mode=append\n"), std::string::npos);
  EXPECT_NE(text.find("#SBATCH --account=abc123\n"), std::string::npos);
  EXPECT_NE(text.find("#SBATCH --gpus-per-node=4\n"), std::string::npos);
  // srun gets the rank's cores (not inherited from sbatch since Slurm 22.05) and ends every rank when one fails.
  EXPECT_NE(text.find("srun --mpi=pmi2 --kill-on-bad-exit=1 --cpus-per-task=\"$SLURM_CPUS_PER_TASK\" sdn train --config"),
            std::string::npos);
  EXPECT_NE(text.find("--cpus-per-rank \"${SLURM_CPUS_PER_TASK:-1}\""), std::string::npos);
  EXPECT_NE(text.find("scontrol requeue \"$SLURM_JOB_ID\""), std::string::npos);
  // A requeue that fails because Slurm already requeued the job (preemption) does not stop the run.
  EXPECT_LT(text.find("scontrol requeue \"$SLURM_JOB_ID\""), text.find("Restarts="));
  EXPECT_LT(text.find("Restarts="), text.find("--reason requeue_failed"));
  // Lmod runs outside set -u.
  const auto plus_u = text.find("set +u\n"), load = text.find("module load "), minus_u = text.find("set -u\n");
  EXPECT_TRUE(plus_u < text.find("module reset") && load < minus_u && minus_u != std::string::npos);
  // SDSC's multi-node settings, values with commas intact.
  EXPECT_NE(text.find("export UCX_TLS=\"shm,rc,ud,dc\"\n"), std::string::npos);
  EXPECT_NE(text.find("export NCCL_IB_HCA=\"mlx5_0\"\n"), std::string::npos);
  expect_golden_and_example("expanse-requeue.sbatch", text);
}

TEST(SlurmGolden, ExpanseChainScript) {
  auto cl = parse_cluster_profile(IniDoc::load(source_dir() + "/configs/clusters/expanse.ini"));
  PlanInputs in;
  in.work = {"semantic", 100000, 8, 2};
  in.images_per_s_per_gpu = 4.0;
  parse_scaling("1:1,2:0.95", in.scaling);
  in.ckpt_seconds = 40;
  Candidate c = evaluate_shape(cl, in, Shape{"gpu-shared", 1, 2, 2, 12 * 3600}, 0);
  ASSERT_TRUE(c.feasible) << c.why_not;
  JobChoices ch;
  ch.mode = "chain";
  ch.run_dir = "/expanse/lustre/projects/abc123/user/runs/semantic-shared";
  ch.job_name = "sdn-semantic-4d5e6f";
  ch.max_chunks = max_chunks_for(c.chunks);
  ch.sdn_command = cl.sdn_command;
  ch.stage = "semantic";
  ch.total_steps = 100000;
  std::string text = render_sbatch(make_job_spec(cl, c, ch));
  EXPECT_NE(text.find("cancel_successors"), std::string::npos);
  expect_golden_and_example("expanse-chain.sbatch", text);
}

// The local cluster, chain mode with reshaping (one job at a time, each continuing job queues its successor).
TEST(SlurmGolden, LocalReshapingChainScript) {
  auto cl = parse_cluster_profile(IniDoc::load(source_dir() + "/configs/clusters/local.ini"));
  PlanInputs in;
  in.work = {"tiny", 250, 2, 1};
  in.images_per_s_per_gpu = 5;
  parse_scaling("1:1", in.scaling);
  in.ckpt_seconds = 1;
  Candidate c = evaluate_shape(cl, in, Shape{"gpu-shared", 1, 2, 2, 60}, 0);
  ASSERT_TRUE(c.feasible) << c.why_not;
  JobChoices ch;
  ch.mode = "chain";
  ch.run_dir = "/tmp/runs/tiny";
  ch.job_name = "sdn-tiny-abcdef";
  ch.max_chunks = 12;
  ch.sdn_command = "/opt/sdn/bin/sdn";
  ch.stage = "tiny";
  ch.total_steps = 250;
  ch.reshape = true;
  JobSpec j = make_job_spec(cl, c, ch);
  ASSERT_TRUE(validate_job_spec(j).empty());
  std::string text = render_sbatch(j);
  EXPECT_NE(text.find("#SBATCH --no-requeue\n"), std::string::npos);
  EXPECT_NE(text.find("#SBATCH --gpus-per-task=1\n"), std::string::npos);
  EXPECT_EQ(text.find("scontrol requeue"), std::string::npos);
  EXPECT_EQ(text.find("--account"), std::string::npos);
  EXPECT_NE(text.find("if ! \"$SDN\" submit \"$RUN\" --after \"$SLURM_JOB_ID\"; then"), std::string::npos);
  EXPECT_EQ(text.find("cancel_successors; exit 0 ;;  # "), std::string::npos);
  expect_golden("local-chain-reshape.sbatch", text);
  j.mode = "requeue";
  ASSERT_EQ(validate_job_spec(j).size(), 1u);
  EXPECT_NE(validate_job_spec(j)[0].find("reshaping needs mode chain"), std::string::npos);
}

TEST(SlurmGolden, GalyleoCommand) {
  auto cl = parse_cluster_profile(IniDoc::load(source_dir() + "/configs/clusters/expanse.ini"));
  Candidate c = expanse_candidate(cl);
  c.shape.partition = "gpu-shared";
  GalyleoSpec g = make_galyleo_spec(cl, c, "/unused");
  ASSERT_TRUE(validate_galyleo(g).empty());
  std::string cmd = render_galyleo(g) + "\n";
  EXPECT_NE(cmd.find("launch --account abc123 --partition gpu-shared --cpus 10 --memory 92 --gpus 1 --time-limit 01:00:00"),
            std::string::npos) << cmd;
  // Jupyter comes from the gpu stack; the login shell finds the sdn module that galyleo checks before launching.
  EXPECT_NE(cmd.find(",py-jupyterlab/3.2.1,sdn "), std::string::npos) << cmd;
  EXPECT_EQ(cmd.find("module use \"/expanse/lustre/projects/abc123/$USER/sdn/env-modules\" && "), 0u) << cmd;
  expect_golden_and_example("expanse-notebook.galyleo", cmd);
  g.account.clear();
  EXPECT_EQ(validate_galyleo(g).size(), 1u);
}

TEST(SlurmGolden, Modulefiles) {
  ModuleSpec sdn;
  sdn.name = "sdn";
  sdn.version = "0.1.0";
  sdn.description = "3D-SDN training suite";
  sdn.help = {"sdn 0.1.0: plan, submit and follow 3D-SDN training on Slurm."};
  sdn.bin_subdir = "build-expanse/src/cli";
  sdn.depends = {"sdn-deps/expanse"};
  sdn.setenv = {{"SDN_CLUSTER", "expanse"}};
  expect_golden("sdn.lua", render_modulefile_lua(sdn));
  expect_golden("sdn.tcl", render_modulefile_tcl(sdn));
  ModuleSpec deps;
  deps.name = "sdn-deps";
  deps.version = "expanse";
  deps.description = "modules sdn is built and run with on expanse";
  deps.help = {"Loads the Expanse GPU stack."};
  // What `sdn cluster modulefiles` writes: the profile's module set, where gcc/10.2.0 comes before cuda.
  deps.depends = parse_cluster_profile(IniDoc::load(source_dir() + "/configs/clusters/expanse.ini")).modules;
  const std::string lua = render_modulefile_lua(deps);
  EXPECT_EQ(lua.find("PATH"), std::string::npos);  // a pure dependency set changes no paths
  EXPECT_NE(lua.find("depends_on(\"gpu/0.17.3b\")"), std::string::npos);
  EXPECT_LT(lua.find("depends_on(\"gcc/10.2.0\")"), lua.find("depends_on(\"cuda/"));
  expect_golden("sdn-deps.lua", lua);
  expect_golden("sdn-deps.tcl", render_modulefile_tcl(deps));
}

TEST(SlurmGolden, LocalClusterConfig) {
  LocalClusterSpec s;
  s.dir = "/tmp/sdn-cluster";
  s.host = "node1";
  s.user = "root";
  s.ctld_port = 26817;
  s.slurmd_port = 26818;
  auto values = template_values(s);
  const std::string conf = render_template(slurm_conf_template(), values);
  // Preemption by requeue, gpu-preempt below every other partition (tests/slurm/test_preempt.sh).
  EXPECT_NE(conf.find("\nPreemptType=preempt/partition_prio\nPreemptMode=REQUEUE\n"), std::string::npos);
  EXPECT_NE(conf.find("PartitionName=gpu-preempt Nodes=node1 MaxTime=7-00:00:00 MaxNodes=1 PriorityTier=1"), std::string::npos);
  expect_golden("local-slurm.conf", conf);
  expect_golden("local-gres.conf", render_template(gres_conf_template(), values));
}

TEST(SlurmScript, ValidationAndQuoting) {
  JobSpec j;
  j.run_dir = "relative dir";
  j.job_name = "a/b";
  j.partition = "p";
  j.walltime_s = 60;
  j.grace_s = 90;
  auto e = validate_job_spec(j);
  ASSERT_EQ(e.size(), 3u);
  EXPECT_NE(e[0].find("must be an absolute path"), std::string::npos);
  EXPECT_NE(e[2].find("signal grace 90 s must be positive and shorter than the time limit"), std::string::npos);
  EXPECT_EQ(shell_quote("abc/d-1.2"), "abc/d-1.2");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote_expand("/x/$USER \"q\""), "\"/x/$USER \\\"q\\\"\"");
}

TEST(SlurmScript, TemplatePlaceholdersMustAllHaveValues) {
  EXPECT_EQ(render_template("a=@A@ mail@host @B@", {{"A", "1"}, {"B", "2"}}), "a=1 mail@host 2");
  EXPECT_THROW(render_template("x=@MISSING@", {}), sdn::Error);
}
