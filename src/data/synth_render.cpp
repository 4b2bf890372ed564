// Implements the synthetic renderer (see synth_render.hpp). Rays go through pixel centres (pixel u covers
// [u - 0.5, u + 0.5], principal point in the same coordinates) with direction ((u-cx)/fx, (v-cy)/fy, 1), so the
// ray parameter of a hit *is* its depth along the camera axis and one comparison serves as the z-buffer. Cars
// and vans are meshes (synth_mesh.hpp), z-buffered at the same pixel centres first; the ray caster then keeps
// whichever of the vehicle and the scenery is nearer.
#include "data/synth_render.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/rng.hpp"
#include "data/synth_mesh.hpp"

namespace sdn::data::synth {
namespace {

constexpr double kNear = 0.1;  // metres; boxes closer than this to the camera plane are clipped
constexpr double kPi = 3.14159265358979323846;

// Rounds to `digits` decimals; dividing by the exact power of ten gives the double nearest to that decimal,
// so the text written for it stays short ("0.0798", not "0.07980000000000001").
double round_to(double v, int digits) {
  const double scale = std::pow(10.0, digits);
  return std::round(v * scale) / scale;
}
float quantise(double v, int digits) { return static_cast<float>(round_to(v, digits)); }

double wrap_pi(double a) {
  while (a > kPi) a -= 2 * kPi;
  while (a < -kPi) a += 2 * kPi;
  return a;
}

// Rotation about y: R_y(a) v. Its inverse is R_y(-a).
Vec3 rot_y(double c, double s, const Vec3& v) { return {c * v.x + s * v.z, v.y, -s * v.x + c * v.z}; }

// A box (vehicle or prop) in camera coordinates, ready for ray tests.
struct CamBox {
  int class_id = 0;
  Rgb paint{};
  double c = 1, s = 0;      // cos/sin of the yaw in the camera frame
  Vec3 origin;              // camera centre in box-local coordinates
  double hl = 0, h = 0, hw = 0;
  int u0 = 0, u1 = -1, v0 = 0, v1 = -1;  // pixels whose centre can see the box
  double truncation = 0;
};

// Projects the box (clipped to z >= kNear) and sets its pixel bounds and truncation ratio (share of the
// projection's bounding rectangle outside the image). Returns false when nothing of it is in front.
bool project(CamBox& b, const Vec3& loc, const Intrinsics& K, int width, int height) {
  Vec3 corners[8];
  for (int i = 0; i < 8; ++i) {
    const Vec3 local{(i & 1) ? b.hl : -b.hl, (i & 2) ? -b.h : 0.0, (i & 4) ? b.hw : -b.hw};
    const Vec3 r = rot_y(b.c, b.s, local);
    corners[i] = {loc.x + r.x, loc.y + r.y, loc.z + r.z};
  }
  double umin = std::numeric_limits<double>::max(), umax = -umin, vmin = umin, vmax = -umin;
  auto add = [&](const Vec3& p) {
    const double u = K.fx * p.x / p.z + K.cx, v = K.fy * p.y / p.z + K.cy;
    umin = std::min(umin, u), umax = std::max(umax, u), vmin = std::min(vmin, v), vmax = std::max(vmax, v);
  };
  bool any = false;
  for (int i = 0; i < 8; ++i) {
    if (corners[i].z >= kNear) add(corners[i]), any = true;
    for (int bit = 1; bit < 8; bit <<= 1) {  // each edge once: from i to i|bit
      if (i & bit) continue;
      const Vec3 &a = corners[i], &e = corners[i | bit];
      if ((a.z < kNear) == (e.z < kNear)) continue;
      const double f = (kNear - a.z) / (e.z - a.z);
      add({a.x + f * (e.x - a.x), a.y + f * (e.y - a.y), kNear});
    }
  }
  if (!any) return false;
  const double area = (umax - umin) * (vmax - vmin);
  const double iw = std::max(0.0, std::min(umax, width - 0.5) - std::max(umin, -0.5));
  const double ih = std::max(0.0, std::min(vmax, height - 0.5) - std::max(vmin, -0.5));
  b.truncation = area > 0 ? std::clamp(1.0 - iw * ih / area, 0.0, 1.0) : 1.0;
  b.u0 = std::max(0, static_cast<int>(std::floor(umin)));
  b.u1 = std::min(width - 1, static_cast<int>(std::ceil(umax)));
  b.v0 = std::max(0, static_cast<int>(std::floor(vmin)));
  b.v1 = std::min(height - 1, static_cast<int>(std::ceil(vmax)));
  return b.u0 <= b.u1 && b.v0 <= b.v1;
}

CamBox make_box(const Box& box, const CameraPose& cam, double& ry_cam, Vec3& loc) {
  const double cy = std::cos(cam.yaw), sy = std::sin(cam.yaw);
  loc = rot_y(cy, -sy, {box.bottom.x - cam.centre.x, box.bottom.y - cam.centre.y, box.bottom.z - cam.centre.z});
  ry_cam = wrap_pi(box.ry - cam.yaw);
  CamBox b;
  b.c = std::cos(ry_cam), b.s = std::sin(ry_cam);
  b.origin = rot_y(b.c, -b.s, {-loc.x, -loc.y, -loc.z});
  b.hl = box.length / 2, b.h = box.height, b.hw = box.width / 2;
  return b;
}

// Slab test in box-local coordinates; returns the entry depth (or +inf) and the axis of the entry face.
double hit_box(const CamBox& b, const Vec3& d, int& axis, Vec3& local) {
  const Vec3 dl = rot_y(b.c, -b.s, d);
  const double o[3] = {b.origin.x, b.origin.y, b.origin.z}, dir[3] = {dl.x, dl.y, dl.z};
  const double lo[3] = {-b.hl, -b.h, -b.hw}, hi[3] = {b.hl, 0.0, b.hw};
  double tmin = -std::numeric_limits<double>::infinity(), tmax = std::numeric_limits<double>::infinity();
  for (int a = 0; a < 3; ++a) {
    if (std::fabs(dir[a]) < 1e-12) {
      if (o[a] < lo[a] || o[a] > hi[a]) return std::numeric_limits<double>::infinity();
      continue;
    }
    double t1 = (lo[a] - o[a]) / dir[a], t2 = (hi[a] - o[a]) / dir[a];
    if (t1 > t2) std::swap(t1, t2);
    if (t1 > tmin) tmin = t1, axis = a;
    tmax = std::min(tmax, t2);
  }
  if (tmin > tmax || tmin < kNear) return std::numeric_limits<double>::infinity();
  local = {o[0] + tmin * dir[0], o[1] + tmin * dir[1], o[2] + tmin * dir[2]};
  return tmin;
}

Surface box_surface(const CamBox& b, int axis, const Vec3& local, double depth) {
  Surface s;
  s.pattern = Pattern::kPlain;
  s.paint = b.paint;
  s.shade = axis == 1 ? 1.0 : axis == 2 ? 0.8 : 0.65;  // top, long sides, ends
  s.s = axis == 0 ? local.z : local.x;
  s.t = -local.y;
  s.depth = depth;
  return s;
}

// What the rest of the frame needs to know about one vehicle in this camera.
struct VehicleView {
  Vec3 loc;               // bottom-face centre, camera frame
  double ry_cam = 0;
  double truncation = 0;
  int full = 0;           // pixels its silhouette covers, occluded or not
  std::shared_ptr<const VehicleShape> shape;
  PosedShape posed;       // empty when it projects outside the image
};

// Props as camera-frame boxes and vehicles as posed meshes, keeping only those that project into the image.
std::vector<CamBox> collect_boxes(const SceneModel& scene, const std::vector<Vehicle>& vehicles, const CameraPose& cam,
                                  const Intrinsics& K, int width, int height, std::vector<VehicleView>& views) {
  std::vector<CamBox> boxes;
  views.assign(vehicles.size(), {});
  for (size_t i = 0; i < vehicles.size(); ++i) {
    const Vehicle& veh = vehicles[i];
    VehicleView& view = views[i];
    CamBox b = make_box(veh.box, cam, view.ry_cam, view.loc);
    if (!project(b, view.loc, K, width, height)) continue;
    view.truncation = b.truncation;
    view.shape = vehicle_shape(scene.key(), veh.track_id, veh.class_id, veh.model);
    view.posed = pose_shape(*view.shape, view.loc, view.ry_cam, veh.box.length, veh.box.height, veh.box.width);
    view.posed.u0 = b.u0, view.posed.u1 = b.u1, view.posed.v0 = b.v0, view.posed.v1 = b.v1;
  }
  for (const Prop& p : scene.props(cam.centre.z - 40.0, cam.centre.z + 300.0)) {
    double ry = 0;
    Vec3 loc;
    CamBox b = make_box(p.box, cam, ry, loc);
    b.class_id = p.class_id, b.paint = p.paint;
    if (project(b, loc, K, width, height)) boxes.push_back(b);
  }
  return boxes;
}

struct Hit {
  double t = kFarClip;  // depth along the camera axis; kFarClip = nothing hit (sky)
  int cls = kSky, inst = 0;
  Surface surf;
};

// Nearest hit of the ray through pixel (u, v) on the scenery: `d` in camera coordinates, `dw` the same ray in
// the road frame.
Hit trace(const SceneModel& scene, const CameraPose& cam, const std::vector<CamBox>& boxes, const Vec3& d,
          const Vec3& dw, int u, int v) {
  Hit h;
  if (dw.y > 1e-12) {  // ground plane y = 0
    const double t = -cam.centre.y / dw.y;
    const double x = cam.centre.x + t * dw.x, z = cam.centre.z + t * dw.z;
    const bool road = std::fabs(x) <= kRoadHalfWidth;
    if (t < h.t) {
      h.t = t, h.cls = road ? kRoad : kTerrain;
      h.surf.pattern = road ? Pattern::kRoad : Pattern::kTerrain;
      h.surf.paint = road ? Rgb{86, 86, 90} : Rgb{118, 104, 72};
      h.surf.s = x, h.surf.t = z;
    }
  }
  for (int side = -1; side <= 1; side += 2) {
    for (int rail = 0; rail < 2; ++rail) {  // vertical planes x = const: facades, then guard rails
      const double X = rail ? scene.rail_x(side) : scene.facade_x(side);
      if (dw.x * (X - cam.centre.x) <= 0) continue;
      const double t = (X - cam.centre.x) / dw.x;
      if (t >= h.t) continue;
      const double y = cam.centre.y + t * dw.y, z = cam.centre.z + t * dw.z;
      const Facade fc = rail ? scene.rail(side, z) : scene.facade(side, z);
      if (fc.class_id < 0 || y > 0 || -y > fc.top) continue;
      h.t = t, h.cls = fc.class_id, h.inst = 0;
      h.surf = Surface{};
      h.surf.pattern = fc.class_id == kBuilding ? Pattern::kBuilding : rail ? Pattern::kPlain : Pattern::kFoliage;
      h.surf.paint = fc.paint, h.surf.s = z, h.surf.t = -y, h.surf.shade = rail ? 0.85 : 0.9;
    }
  }
  for (const CamBox& b : boxes) {
    if (u < b.u0 || u > b.u1 || v < b.v0 || v > b.v1) continue;
    int axis = 0;
    Vec3 local;
    const double t = hit_box(b, d, axis, local);
    if (t >= h.t) continue;
    h.t = t, h.cls = b.class_id, h.inst = 0;
    h.surf = box_surface(b, axis, local, t);
  }
  return h;
}

// The vehicle surface seen along camera ray `d` at `depth` on `face`: paint, glass or tyre by the mesh part,
// texture coordinates in box-local metres, and a shade from the face's normal in the road frame (a sky term
// from above plus a sun from behind the camera's left shoulder), so that the camera's yaw does not relight it.
Surface vehicle_surface(const Vehicle& veh, const VehicleView& view, int face, const Vec3& d, double depth,
                        double cyaw, double syaw) {
  static const Vec3 kSun = [] {
    const Vec3 l{-0.35, -0.8, -0.5};
    const double n = std::sqrt(l.x * l.x + l.y * l.y + l.z * l.z);
    return Vec3{l.x / n, l.y / n, l.z / n};
  }();
  Surface s;
  switch (view.shape->parts[static_cast<size_t>(face)]) {
    case VehiclePart::kBody: s.pattern = Pattern::kVehicle; break;
    case VehiclePart::kGlass: s.pattern = Pattern::kGlass; break;
    case VehiclePart::kWheel: s.pattern = Pattern::kTyre; break;
  }
  s.paint = veh.paint;
  const Vec3 n = rot_y(cyaw, syaw, face_normal(view.posed, face));
  const double sun = std::max(0.0, n.x * kSun.x + n.y * kSun.y + n.z * kSun.z);
  s.shade = 0.55 + 0.2 * std::max(0.0, -n.y) + 0.3 * sun;
  const double c = std::cos(view.ry_cam), sn = std::sin(view.ry_cam);
  const Vec3 local = rot_y(c, -sn, {d.x * depth - view.loc.x, d.y * depth - view.loc.y, depth - view.loc.z});
  s.s = local.x + local.z;
  s.t = -local.y;
  s.depth = depth;
  return s;
}

// Object rows of the vehicles with at least one visible pixel: tight box of those pixels, pose, ratios.
void add_objects(const std::vector<Vehicle>& vehicles, const std::vector<VehicleView>& views, RenderedFrame& out) {
  Frame& f = out.frame;
  struct Stats {
    int pixels = 0, left = 0, right = -1, top = 0, bottom = -1;
  };
  std::vector<Stats> stats(vehicles.size());
  std::vector<int> by_instance(256, -1);
  for (size_t i = 0; i < vehicles.size(); ++i) by_instance[static_cast<size_t>(vehicles[i].track_id + 1)] = static_cast<int>(i);
  for (int v = 0; v < f.height; ++v)
    for (int u = 0; u < f.width; ++u) {
      const int id = f.instance[static_cast<size_t>(v) * f.width + u];
      if (id == 0) continue;
      Stats& s = stats[static_cast<size_t>(by_instance[static_cast<size_t>(id)])];
      if (s.pixels++ == 0) s.left = s.right = u, s.top = s.bottom = v;
      s.left = std::min(s.left, u), s.right = std::max(s.right, u);
      s.top = std::min(s.top, v), s.bottom = std::max(s.bottom, v);
    }
  for (size_t i = 0; i < vehicles.size(); ++i) {
    const Stats& s = stats[i];
    if (s.pixels == 0) continue;
    const Vehicle& veh = vehicles[i];
    const VehicleView& view = views[i];
    RenderedObject o;
    ObjectGT& g = o.gt;
    g.track_id = veh.track_id, g.class_id = veh.class_id;
    g.left = static_cast<float>(s.left), g.top = static_cast<float>(s.top);
    g.right = static_cast<float>(s.right), g.bottom = static_cast<float>(s.bottom);
    g.width3d = quantise(veh.box.width, 4), g.height3d = quantise(veh.box.height, 4);
    g.length3d = quantise(veh.box.length, 4);
    g.x3d = quantise(view.loc.x, 4), g.y3d = quantise(view.loc.y, 4), g.z3d = quantise(view.loc.z, 4);
    g.rotation_y = quantise(view.ry_cam, 6);
    g.alpha = quantise(wrap_pi(view.ry_cam - std::atan2(view.loc.x, view.loc.z)), 6);
    const double occupancy = static_cast<double>(s.pixels) / std::max(view.full, s.pixels);
    g.truncation = quantise(view.truncation, 6);
    g.occupancy = quantise(occupancy, 6);
    g.moving = veh.moving;
    o.pixels = s.pixels;
    o.truncated = view.truncation > 1e-6 ? 1 : 0;
    o.occluded = occupancy >= 0.95 ? 0 : occupancy >= 0.5 ? 1 : 2;
    o.world = {round_to(veh.box.bottom.x, 4), round_to(veh.box.bottom.y, 4), round_to(veh.box.bottom.z, 4)};
    o.world_ry = quantise(veh.box.ry, 6);
    o.model = veh.model, o.color_name = veh.color_name;
    f.objects.push_back(g);
    out.objects.push_back(o);
  }
}

}  // namespace

RenderedFrame render_frame(const SceneModel& scene, const Look& look, Layout layout, const std::string& world,
                           const std::string& variation, int index, int camera, int width, int height) {
  RenderedFrame out;
  Frame& f = out.frame;
  f.world = world, f.variation = variation, f.index = index, f.camera = camera;
  f.width = width, f.height = height;
  f.K = layout == Layout::kVkitti1 ? vkitti1_intrinsics(width, height) : vkitti2_intrinsics(width, height);
  const Intrinsics& K = f.K;
  const size_t n = static_cast<size_t>(width) * height;
  f.rgb.assign(n * 3, 0);
  f.classes.assign(n, kSky);
  f.instance.assign(n, 0);
  f.depth.assign(n, kDepthSky);

  const CameraPose cam = scene.camera(variation, index, camera);
  const double cyaw = std::cos(cam.yaw), syaw = std::sin(cam.yaw);
  {  // road -> camera: [R^T | -R^T C]
    const Vec3 t = rot_y(cyaw, -syaw, {-cam.centre.x, -cam.centre.y, -cam.centre.z});
    out.extrinsic = {cyaw, 0, -syaw, t.x, 0, 1, 0, t.y, syaw, 0, cyaw, t.z, 0, 0, 0, 1};
    for (double& e : out.extrinsic) e = round_to(e, 7);  // readable text; no reader needs more
  }

  const std::vector<Vehicle> vehicles = scene.vehicles(index);
  std::vector<VehicleView> views;
  const std::vector<CamBox> boxes = collect_boxes(scene, vehicles, cam, K, width, height, views);
  VehicleRaster raster(width, height, static_cast<int>(vehicles.size()));
  for (size_t k = 0; k < views.size(); ++k)
    if (views[k].shape) {
      raster.draw(views[k].posed, static_cast<int>(k), K, kNear);
      views[k].full = raster.coverage(static_cast<int>(k));
    }
  const std::uint64_t frame_key = hash_key({scene.key(), text_key(variation),
                                            static_cast<std::uint64_t>(index), static_cast<std::uint64_t>(camera)});
  for (int v = 0; v < height; ++v) {
    for (int u = 0; u < width; ++u) {
      const Vec3 d{(u - K.cx) / K.fx, (v - K.cy) / K.fy, 1.0};
      const Vec3 dw = rot_y(cyaw, syaw, d);
      Hit h = trace(scene, cam, boxes, d, dw, u, v);
      const size_t i = static_cast<size_t>(v) * width + u;
      if (raster.depth(i) < h.t) {
        const size_t k = static_cast<size_t>(raster.vehicle(i));
        h.t = raster.depth(i), h.cls = vehicles[k].class_id, h.inst = vehicles[k].track_id + 1;
        h.surf = vehicle_surface(vehicles[k], views[k], raster.face(i), d, h.t, cyaw, syaw);
      }
      Rgb c;
      if (h.t < kFarClip) {
        h.surf.depth = h.t;
        f.classes[i] = static_cast<std::uint8_t>(h.cls);
        f.instance[i] = static_cast<std::uint16_t>(h.inst);
        f.depth[i] = static_cast<std::uint16_t>(std::min<long>(65534, std::lround(h.t * 100.0)));
        c = shade_surface(look, h.surf, frame_key + i);
      } else {
        const double norm = std::sqrt(dw.x * dw.x + dw.y * dw.y + dw.z * dw.z);
        c = shade_sky(look, -dw.y / norm, frame_key + i);
      }
      f.rgb[3 * i] = c[0], f.rgb[3 * i + 1] = c[1], f.rgb[3 * i + 2] = c[2];
    }
  }
  add_objects(vehicles, views, out);
  return out;
}

}  // namespace sdn::data::synth
