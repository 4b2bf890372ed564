// Internal to the codecs (image_io.cpp, image_jpeg.cpp): an owned FILE* whose errors name the path, and the
// JPEG header probe used by read_image_size. Not part of the data layer's public interface.
#pragma once

#include <cstdio>
#include <string>

#include "data/image_io.hpp"

namespace sdn::data::img {

class File {
 public:
  // Throws Error naming `path` and the OS reason when it cannot be opened.
  File(const std::string& path, const char* mode);
  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  std::FILE* get() const { return file_; }
  // Flushes and closes; throws Error naming the path when the data did not reach the file (disk full, EIO).
  void close_checked();
  void close_quietly();

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

ImageSize read_jpeg_size(const std::string& path);

}  // namespace sdn::data::img
