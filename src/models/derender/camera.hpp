// From the derenderer's outputs to posed, projected meshes, as the original's Derenderer3d.render and
// PerspectiveTransform (geometric/derender3d/models/{__init__,transforms}.py) do it: θ from (cos, sin), a
// y-axis quaternion, scale = exp(log scale), depth = sqrt(exp(log depth) / ROI area), translation = depth along
// the ray through the ROI centre moved by translation2d; then the "zoom" view in which the ROI fills
// image_size (256) px of the render_size (384) px render, or (test time) the object fills the render.
// Frames: x right, y up, the camera at the origin looking along -z (OpenGL); ROI coordinates are (v, u) = (down, right).
#pragma once

#include <torch/torch.h>

#include "models/derender/derenderer.hpp"

namespace sdn::models::derender {

struct Pose {
  torch::Tensor thetas;        // [N, 1] atan2(sin, cos)
  torch::Tensor rotations;     // [N, 4] quaternion (cos θ/2, 0, sin θ/2, 0)
  torch::Tensor scales;        // [N, 3]
  torch::Tensor depths;        // [N, 1] distance of the object centre
  torch::Tensor center2ds;     // [N, 2] projected centre (v, u), normalised
  torch::Tensor translations;  // [N, 3] object centre
  torch::Tensor alphas;        // [N, 1] observation angle -(θ - atan(tx / tz)), wrapped to [-π, π)
};

Pose decode_pose(const DerendererOutputs& out, const torch::Tensor& mroi_norms, const torch::Tensor& droi_norms);

// The training view: the perspective centre is the ray through the ROI centre at the object's depth, and the
// zoom (image_size / f) / max(droi) makes the ROI span image_size px of a render whose half-angle tangent is
// render_size / (2 f). Returns perspective_translations [N, 3] and zooms [N, 1].
void training_view(const Pose& pose, const torch::Tensor& mroi_norms, const torch::Tensor& droi_norms,
                   const torch::Tensor& focals, double image_size, torch::Tensor& perspective_translations,
                   torch::Tensor& zooms);

// PerspectiveTransform for one object: vertices [V, 3] scaled, rotated by the quaternion [4], translated [3],
// sheared so that the perspective centre [3] lies on the optical axis, and z divided by zoom (a scalar tensor).
torch::Tensor perspective_transform(const torch::Tensor& vertices, const torch::Tensor& scale,
                                    const torch::Tensor& rotation, const torch::Tensor& translation,
                                    const torch::Tensor& perspective_translation, const torch::Tensor& zoom);

// The test-time view: like perspective_transform with the object's own translation as perspective centre and
// the zoom chosen so that the object fills the render: zoom = min_v |z| / max(|x|, |y|) * zoom_to, with
// zoom_to = render_size / (2 f). Returns the vertices and sets `zoom` ([1]).
torch::Tensor perspective_transform_fit(const torch::Tensor& vertices, const torch::Tensor& scale,
                                        const torch::Tensor& rotation, const torch::Tensor& translation,
                                        double zoom_to, torch::Tensor& zoom);

// The rotation matrix [3, 3] of a unit quaternion (a, b, c, d), as PerspectiveTransform builds it.
torch::Tensor quaternion_matrix(const torch::Tensor& q);

}  // namespace sdn::models::derender
