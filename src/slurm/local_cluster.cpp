// Implements the embedded cluster (see local_cluster.hpp). Order matters: munged before slurmctld (every RPC is
// authenticated), slurmctld before slurmd (slurmd registers with it); shutdown in reverse, after the jobs.
#include "slurm/local_cluster.hpp"

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <thread>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/parse.hpp"
#include "slurm/scheduler.hpp"

namespace sdn::slurm {
namespace {

std::string path_of(const LocalClusterSpec& s, const std::string& rel) { return s.dir + "/" + rel; }

pid_t read_pid(const std::string& pid_file) {
  std::ifstream in(pid_file);
  long pid = 0;
  if (!(in >> pid) || pid <= 1) return 0;
  return static_cast<pid_t>(pid);
}

bool alive(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

std::string tail(const std::string& path, std::size_t max_lines) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string l;
  while (std::getline(in, l)) lines.push_back(l);
  std::string out;
  for (std::size_t i = lines.size() > max_lines ? lines.size() - max_lines : 0; i < lines.size(); ++i)
    out += "\n    " + lines[i];
  return out.empty() ? " (empty)" : out;
}

template <class Pred>
bool wait_for(Pred pred, double seconds) {
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return pred();
}

void stop_pid(pid_t pid, const std::string& what) {
  if (!alive(pid)) return;
  ::kill(pid, SIGTERM);
  if (!wait_for([&] { return !alive(pid); }, 15)) {
    ::kill(pid, SIGKILL);
    wait_for([&] { return !alive(pid); }, 5);
  }
  if (alive(pid)) throw Error("cannot stop " + what + " (pid " + std::to_string(pid) + ")");
}

void write_munge_key(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return;
  std::random_device rd;
  std::string key(1024, '\0');
  for (auto& ch : key) ch = static_cast<char>(rd() & 0xff);
  fs::write_atomic(path, key);
  // munged refuses a key readable by others.
  if (::chmod(path.c_str(), 0400) != 0) throw Error("cannot chmod " + path + ": " + std::strerror(errno));
}

CommandResult run_with_conf(const LocalClusterSpec& s, std::vector<std::string> argv) {
  ::setenv("SLURM_CONF", path_of(s, "slurm.conf").c_str(), 1);
  return run_command(argv);
}

bool controller_answers(const LocalClusterSpec& s) {
  auto r = run_with_conf(s, {"scontrol", "ping"});
  return r.exit_code == 0 && r.out.find("is UP") != std::string::npos;
}

std::string node_state(const LocalClusterSpec& s) {
  auto r = run_with_conf(s, {"sinfo", "-h", "-N", "-n", s.host, "-o", "%t"});
  auto lines = parse::split(r.out, '\n');
  return lines.empty() ? std::string() : parse::trim(lines[0]);
}

}  // namespace

std::string render_template(const std::string& text, const std::map<std::string, std::string>& values) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    auto a = text.find('@', pos);
    if (a == std::string::npos) break;
    auto b = text.find('@', a + 1);
    if (b == std::string::npos) break;
    std::string name = text.substr(a + 1, b - a - 1);
    bool is_name = !name.empty() && name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == std::string::npos;
    if (!is_name) {  // a lone '@' (e.g. in a comment): keep it and continue after it
      out += text.substr(pos, a + 1 - pos);
      pos = a + 1;
      continue;
    }
    auto it = values.find(name);
    if (it == values.end()) throw Error("template placeholder @" + name + "@ has no value");
    out += text.substr(pos, a - pos) + it->second;
    pos = b + 1;
  }
  return out + text.substr(pos);
}

LocalClusterSpec resolve_spec(LocalClusterSpec s) {
  if (s.host.empty()) {
    char buf[256] = {};
    ::gethostname(buf, sizeof buf - 1);
    s.host = std::string(buf).substr(0, std::string(buf).find('.'));
  }
  if (s.user.empty()) {
    const passwd* pw = ::getpwuid(::geteuid());
    s.user = pw ? pw->pw_name : "root";
  }
  if (s.ctld_port == 0) {
    std::uint32_t h = 2166136261u;  // FNV-1a of the directory: the same dir always gets the same ports
    for (unsigned char ch : s.dir) h = (h ^ ch) * 16777619u;
    s.ctld_port = 20000 + static_cast<int>(h % 10000) * 2;
  }
  if (s.slurmd_port == 0) s.slurmd_port = s.ctld_port + 1;
  return s;
}

std::map<std::string, std::string> template_values(const LocalClusterSpec& s) {
  return {{"CLUSTER", s.cluster_name},        {"HOST", s.host},
          {"USER", s.user},                   {"DIR", s.dir},
          {"CTLD_PORT", std::to_string(s.ctld_port)}, {"SLURMD_PORT", std::to_string(s.slurmd_port)},
          {"CPUS", std::to_string(s.cpus)},   {"MEMORY_MB", std::to_string(s.memory_mb)},
          {"GPUS", std::to_string(s.gpus)},   {"LAST_GPU", std::to_string(s.gpus - 1)},
          {"CRED_EXPIRE", std::to_string(s.cred_expire_s)}};
}

std::string usage_text(const LocalClusterSpec& s) {
  return "  export SLURM_CONF=" + path_of(s, "slurm.conf") + "\n"
         "  sinfo                       # partitions gpu, gpu-shared, gpu-debug, gpu-preempt; " + std::to_string(s.gpus) +
         " fake GPUs\n"
         "  sdn plan --cluster local --stage STAGE.ini --run-dir RUN ... && sdn submit RUN\n"
         "  sdn cluster down --dir " + s.dir + "\n";
}

std::string cluster_up(const LocalClusterSpec& s, bool clean_state) {
  const pid_t munged = read_pid(path_of(s, "munge/munged.pid"));
  const pid_t ctld = read_pid(path_of(s, "run/slurmctld.pid"));
  const pid_t slurmd = read_pid(path_of(s, "run/slurmd.pid"));
  if (alive(munged) && alive(ctld) && alive(slurmd) && !clean_state && controller_answers(s))
    return "local cluster already up in " + s.dir + "\n" + usage_text(s);
  if (alive(munged) || alive(ctld) || alive(slurmd)) cluster_down(s);  // half up: restart cleanly

  if (path_of(s, "munge/munge.socket").size() > 100)
    throw UsageError("cluster directory " + s.dir + " is too long for munge's socket path (Unix sockets: 108 bytes)",
                     "use a shorter --dir, e.g. /tmp/sdn-cluster");
  for (const char* sub : {"", "/state", "/spool", "/log", "/run", "/munge", "/fakedev"}) fs::ensure_writable_dir(s.dir + sub);
  ::chmod(path_of(s, "munge").c_str(), 0700);  // munged checks that no one else can write its socket dir
  for (int i = 0; i < s.gpus; ++i) {
    std::string dev = path_of(s, "fakedev/nvidia" + std::to_string(i));
    ::unlink(dev.c_str());
    if (::symlink("/dev/null", dev.c_str()) != 0) throw Error("cannot create fake GPU " + dev + ": " + std::strerror(errno));
  }
  auto values = template_values(s);
  fs::write_atomic(path_of(s, "slurm.conf"), render_template(slurm_conf_template(), values));
  fs::write_atomic(path_of(s, "gres.conf"), render_template(gres_conf_template(), values));
  write_munge_key(path_of(s, "munge/munge.key"));

  auto start = [&](const std::vector<std::string>& argv, const std::string& log) {
    auto r = run_with_conf(s, argv);
    if (r.exit_code != 0)
      throw Error(argv[0] + " failed to start (exit " + std::to_string(r.exit_code) + "): " + parse::trim(r.err) +
                      "\n  log " + log + ":" + tail(log, 15),
                  "is another cluster using port " + std::to_string(s.ctld_port) + "? pass --port to choose others");
  };
  start({"munged", "--force", "--socket=" + path_of(s, "munge/munge.socket"),
         "--key-file=" + path_of(s, "munge/munge.key"), "--pid-file=" + path_of(s, "munge/munged.pid"),
         "--log-file=" + path_of(s, "log/munged.log"), "--seed-file=" + path_of(s, "munge/munged.seed")},
        path_of(s, "log/munged.log"));
  std::vector<std::string> ctld_argv = {"slurmctld", "-f", path_of(s, "slurm.conf")};
  if (clean_state) ctld_argv.push_back("-c");  // forget queued jobs and node states of a previous up
  start(ctld_argv, path_of(s, "log/slurmctld.log"));
  if (!wait_for([&] { return controller_answers(s); }, 30))
    throw Error("slurmctld did not answer within 30 s; log " + path_of(s, "log/slurmctld.log") + ":" +
                    tail(path_of(s, "log/slurmctld.log"), 15),
                "is another cluster using port " + std::to_string(s.ctld_port) + "? pass --port to choose others");
  start({"slurmd", "-f", path_of(s, "slurm.conf")}, path_of(s, "log/slurmd.log"));
  auto usable = [&] {
    std::string st = node_state(s);
    return st.rfind("idle", 0) == 0 || st.rfind("mix", 0) == 0 || st.rfind("alloc", 0) == 0;
  };
  if (!wait_for(usable, 30)) {
    // A node left down/drained by an earlier run comes back on an explicit resume.
    run_with_conf(s, {"scontrol", "update", "nodename=" + s.host, "state=resume"});
    if (!wait_for(usable, 15))
      throw Error("node " + s.host + " is '" + node_state(s) + "', not idle; log " + path_of(s, "log/slurmd.log") + ":" +
                  tail(path_of(s, "log/slurmd.log"), 15));
  }
  return "local cluster up in " + s.dir + " (slurmctld port " + std::to_string(s.ctld_port) + ", " +
         std::to_string(s.gpus) + " fake GPUs)\n" + usage_text(s);
}

std::string cluster_down(const LocalClusterSpec& s) {
  const pid_t munged = read_pid(path_of(s, "munge/munged.pid"));
  const pid_t ctld = read_pid(path_of(s, "run/slurmctld.pid"));
  const pid_t slurmd = read_pid(path_of(s, "run/slurmd.pid"));
  std::string report;
  if (alive(ctld) && alive(slurmd) && alive(munged)) {
    // Jobs first: their slurmstepd processes outlive slurmd, so cancel and wait for the queue to drain.
    auto q = run_with_conf(s, {"squeue", "-h", "-o", "%i"});
    std::vector<std::string> all;
    for (auto& id : parse::split(q.out, '\n')) if (!parse::trim(id).empty()) all.push_back(parse::trim(id));
    if (!all.empty()) {
      std::vector<std::string> argv = {"scancel"};
      argv.insert(argv.end(), all.begin(), all.end());
      run_with_conf(s, argv);
      wait_for([&] { return parse::trim(run_with_conf(s, {"squeue", "-h", "-o", "%i"}).out).empty(); }, 30);
      report += "cancelled " + std::to_string(all.size()) + " job(s)\n";
    }
  }
  stop_pid(slurmd, "slurmd");
  stop_pid(ctld, "slurmctld");
  stop_pid(munged, "munged");
  report += (alive(munged) || alive(ctld) || alive(slurmd)) ? "some daemons still run\n"
                                                             : "local cluster in " + s.dir + " is down\n";
  return report;
}

bool cluster_status(const LocalClusterSpec& s, std::string& report) {
  struct D {
    const char* name;
    std::string pid_file;
  };
  bool all = true;
  for (const auto& d : {D{"munged", path_of(s, "munge/munged.pid")}, D{"slurmctld", path_of(s, "run/slurmctld.pid")},
                        D{"slurmd", path_of(s, "run/slurmd.pid")}}) {
    pid_t pid = read_pid(d.pid_file);
    bool up = alive(pid);
    all = all && up;
    report += std::string("  ") + d.name + ": " + (up ? "running (pid " + std::to_string(pid) + ")" : "not running") + "\n";
  }
  if (all) {
    report += run_with_conf(s, {"sinfo", "-o", "%P %a %l %D %G %t"}).out;
    report += run_with_conf(s, {"squeue", "-o", "%i %j %T %M %l %R"}).out;
    report += usage_text(s);
  } else {
    report += "  start it with: sdn cluster up --dir " + s.dir + "\n";
  }
  return all;
}

}  // namespace sdn::slurm
