// Implements the run journal (see journal.hpp): durable single-line appends and a tolerant reader.
#include "core/journal.hpp"

#include <sys/stat.h>

#include <chrono>
#include <fstream>

#include "core/error.hpp"
#include "core/fs.hpp"

namespace sdn::journal {

double now_seconds() {
  using namespace std::chrono;
  return duration_cast<duration<double>>(system_clock::now().time_since_epoch()).count();
}

namespace {

// True if the file exists, is non-empty and its last byte is not '\n' (a writer died mid-line).
bool ends_torn(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return false;
  auto size = static_cast<std::streamoff>(in.tellg());
  if (size <= 0) return false;
  in.seekg(size - 1);
  char last = '\n';
  in.get(last);
  return last != '\n';
}

}  // namespace

std::string path_in(const std::string& run_dir) { return run_dir + "/journal.jsonl"; }

Event make(const std::string& event_kind) {
  Event e = Event::object();
  e["event"] = event_kind;
  e["time"] = now_seconds();
  return e;
}

void append(const std::string& path, const Event& event) {
  if (!event.is_object() || !event.contains("event"))
    throw Error("journal event must be a JSON object with an \"event\" field: " + event.dump());
  Event e = event;
  if (!e.contains("time")) e["time"] = now_seconds();
  std::string line = e.dump();  // dump() escapes newlines, so one event is always one line
  // Racy by design: two writers could both see the torn tail; each then adds one empty line, which the reader
  // skips. What matters is that no valid event is ever glued onto a fragment.
  if (ends_torn(path)) line = "\n" + line;
  fs::append_line_durable(path, line);
}

ReadResult parse(const std::string& text, const std::string& origin) {
  ReadResult out;
  std::size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    bool complete = nl != std::string::npos;
    std::string line = text.substr(pos, complete ? nl - pos : std::string::npos);
    pos = complete ? nl + 1 : text.size();
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto parsed = Event::parse(line, nullptr, /*allow_exceptions=*/false);
    bool ok = !parsed.is_discarded() && parsed.is_object() && parsed.contains("event");
    if (ok && complete) {
      out.events.push_back(std::move(parsed));
    } else if (!complete) {
      out.torn_tail = true;  // even if it parses: the writer may not have finished the fsync'ed line
    } else {
      out.problems.push_back(origin + ":" + std::to_string(line_no) + ": not a journal event (JSON object with "
                             "an \"event\" field); line skipped");
    }
  }
  return out;
}

ReadResult read(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return parse(fs::read_file(path), path);
}

double number_or(const Event& e, const char* key, double fallback) {
  auto it = e.find(key);
  return it != e.end() && it->is_number() ? it->get<double>() : fallback;
}

std::int64_t int_or(const Event& e, const char* key, std::int64_t fallback) {
  auto it = e.find(key);
  if (it == e.end() || !it->is_number()) return fallback;
  return it->is_number_integer() ? it->get<std::int64_t>() : static_cast<std::int64_t>(it->get<double>());
}

std::string string_or(const Event& e, const char* key, const std::string& fallback) {
  auto it = e.find(key);
  return it != e.end() && it->is_string() ? it->get<std::string>() : fallback;
}

}  // namespace sdn::journal
