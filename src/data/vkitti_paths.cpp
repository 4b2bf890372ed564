// Implements the vKITTI path scheme (see vkitti_paths.hpp).
#include "data/vkitti_paths.hpp"

#include <cctype>
#include <cstdio>

#include "data/vkitti.hpp"

namespace sdn::data::paths {
namespace {

std::string five_digits(int frame) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%05d", frame);
  return buf;
}

}  // namespace

std::string v1_frame_name(int frame) { return five_digits(frame) + ".png"; }

std::string v1_image_dir(const std::string& root, const char* modality, const std::string& world,
                         const std::string& variation) {
  return root + "/" + modality + "/" + world + "/" + variation;
}

std::string v1_image(const std::string& root, const char* modality, const std::string& world,
                     const std::string& variation, int frame) {
  return v1_image_dir(root, modality, world, variation) + "/" + v1_frame_name(frame);
}

std::string v1_encoding(const std::string& root, const std::string& world, const std::string& variation) {
  return root + "/" + kV1SceneGt + "/" + world + "_" + variation + "_scenegt_rgb_encoding.txt";
}

std::string v1_motgt(const std::string& root, const std::string& world, const std::string& variation) {
  return root + "/" + kV1MotGt + "/" + world + "_" + variation + ".txt";
}

std::string v1_extrinsics(const std::string& root, const std::string& world, const std::string& variation) {
  return root + "/" + kV1Extrinsics + "/" + world + "_" + variation + ".txt";
}

std::string v2_sequence_dir(const std::string& root, const std::string& world, const std::string& variation) {
  return root + "/" + scene_name(world) + "/" + variation;
}

std::string v2_image_dir(const std::string& root, const V2Modality& m, const std::string& world,
                         const std::string& variation, int camera) {
  return v2_sequence_dir(root, world, variation) + "/frames/" + m.folder + "/Camera_" + std::to_string(camera);
}

std::string v2_frame_name(const V2Modality& m, int frame) {
  return std::string(m.prefix) + "_" + five_digits(frame) + "." + m.ext;
}

std::string v2_image(const std::string& root, const V2Modality& m, const std::string& world,
                     const std::string& variation, int camera, int frame) {
  return v2_image_dir(root, m, world, variation, camera) + "/" + v2_frame_name(m, frame);
}

std::string v2_text(const std::string& root, const std::string& world, const std::string& variation,
                    const char* file) {
  return v2_sequence_dir(root, world, variation) + "/" + file;
}

int frame_number(const std::string& file_name, const std::string& prefix, const std::string& ext) {
  const std::string suffix = "." + ext;
  if (file_name.size() <= prefix.size() + suffix.size()) return -1;
  if (file_name.compare(0, prefix.size(), prefix) != 0) return -1;
  if (file_name.compare(file_name.size() - suffix.size(), suffix.size(), suffix) != 0) return -1;
  const std::string digits = file_name.substr(prefix.size(), file_name.size() - prefix.size() - suffix.size());
  if (digits.empty() || digits.size() > 9) return -1;
  for (char c : digits)
    if (!std::isdigit(static_cast<unsigned char>(c))) return -1;
  return std::stoi(digits);
}

}  // namespace sdn::data::paths
