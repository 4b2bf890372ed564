// Crash-safe file primitives: nothing is ever visible under its final name until it is complete and durable.
// Protocol: write to a unique temporary name in the same directory, fsync it, rename(2), fsync the directory.
#pragma once

#include <string>

namespace sdn::fs {

// mkdir -p `dir`, then prove it is writable by creating and removing a probe file. Throws Error naming the dir.
void ensure_writable_dir(const std::string& dir);

// A unique temporary path next to `final_path` (same filesystem, so rename is atomic).
std::string temp_path_for(const std::string& final_path);

// fsync a file or a directory by path. Throws Error naming the path.
void fsync_path(const std::string& path);

// Atomically moves a complete temporary file to its final name and makes the rename durable.
void commit_rename(const std::string& temp_path, const std::string& final_path);

// Writes `content` to `path` atomically (temp + fsync + rename + fsync dir).
void write_atomic(const std::string& path, const std::string& content);

// Appends one line (with '\n') and fsyncs: for journals that several jobs append to in turn.
void append_line_durable(const std::string& path, const std::string& line);

// Whole file as a string; Error naming the path if it cannot be read.
std::string read_file(const std::string& path);

}  // namespace sdn::fs
