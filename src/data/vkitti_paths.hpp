// The on-disk path scheme of both vKITTI layouts, shared by the synthetic writer and the readers so that
// the two can never disagree about a file name (reference §5 for 1.3.1, §6 for 2.0.3). Pure string functions.
#pragma once

#include <string>

namespace sdn::data::paths {

// vKITTI 1.3.1: one root folder per modality, <world>/<variation>/<frame:05d>.png below it.
constexpr const char* kV1Rgb = "vkitti_1.3.1_rgb";
constexpr const char* kV1SceneGt = "vkitti_1.3.1_scenegt";
constexpr const char* kV1DepthGt = "vkitti_1.3.1_depthgt";
constexpr const char* kV1MotGt = "vkitti_1.3.1_motgt";
constexpr const char* kV1Extrinsics = "vkitti_1.3.1_extrinsicsgt";

std::string v1_frame_name(int frame);  // "00042.png"
std::string v1_image_dir(const std::string& root, const char* modality, const std::string& world,
                         const std::string& variation);
std::string v1_image(const std::string& root, const char* modality, const std::string& world,
                     const std::string& variation, int frame);
std::string v1_encoding(const std::string& root, const std::string& world, const std::string& variation);
std::string v1_motgt(const std::string& root, const std::string& world, const std::string& variation);
std::string v1_extrinsics(const std::string& root, const std::string& world, const std::string& variation);

// vKITTI 2.0.3: Scene<NN>/<variation>/frames/<modality>/Camera_<k>/<prefix>_<frame:05d>.<ext>, text GT in
// Scene<NN>/<variation>/. `world` is the normalised "0001" form.
struct V2Modality {
  const char* folder;  // "rgb", "depth", "classSegmentation", "instanceSegmentation"
  const char* prefix;  // "rgb", "depth", "classgt", "instancegt"
  const char* ext;     // "jpg" or "png"
};
constexpr V2Modality kV2Rgb{"rgb", "rgb", "jpg"};
constexpr V2Modality kV2Depth{"depth", "depth", "png"};
constexpr V2Modality kV2Class{"classSegmentation", "classgt", "png"};
constexpr V2Modality kV2Instance{"instanceSegmentation", "instancegt", "png"};

std::string v2_sequence_dir(const std::string& root, const std::string& world, const std::string& variation);
std::string v2_image_dir(const std::string& root, const V2Modality& m, const std::string& world,
                         const std::string& variation, int camera);
std::string v2_frame_name(const V2Modality& m, int frame);  // "rgb_00042.jpg"
std::string v2_image(const std::string& root, const V2Modality& m, const std::string& world,
                     const std::string& variation, int camera, int frame);
// bbox.txt, colors.txt, extrinsic.txt, info.txt, intrinsic.txt, pose.txt
std::string v2_text(const std::string& root, const std::string& world, const std::string& variation,
                    const char* file);

// Frame number of a file name of the form <prefix><digits>.<ext> (prefix may be empty); -1 if it is not one.
int frame_number(const std::string& file_name, const std::string& prefix, const std::string& ext);

}  // namespace sdn::data::paths
