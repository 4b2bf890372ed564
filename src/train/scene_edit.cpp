// Implements the scene file, the edit parsers and the edit arithmetic (see scene_edit.hpp). The position
// edits follow geometric/scripts/main.py _test: the projected centre moves along the image at constant distance
// (translation = distance * the unit ray through the new centre), zoom divides the distance (log depth - 2 log
// zoom), ry turns theta by -ry; alpha and the projected centre follow from the new theta and translation.
#include "train/scene_edit.hpp"

#include <cmath>
#include <cstdlib>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/parse.hpp"

namespace sdn::train {
namespace {

using nlohmann::json;

template <size_t N>
std::array<double, N> array_of(const json& j, const char* key) {
  const auto& v = j.at(key);
  if (!v.is_array() || v.size() != N)
    throw std::runtime_error(std::string("\"") + key + "\" must be a list of " + std::to_string(N) + " numbers");
  std::array<double, N> a{};
  for (size_t i = 0; i < N; ++i) a[i] = v[i].get<double>();
  return a;
}

// The benchmark writes numbers as strings ("1.338").
double number(const json& v, const std::string& what) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const auto s = v.get<std::string>();
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end && *end == '\0' && std::isfinite(d)) return d;
  }
  throw std::runtime_error(what + " is not a number: " + v.dump());
}

std::vector<double> numbers(const std::string& text, const std::string& what, size_t min_n, size_t max_n) {
  std::vector<double> out;
  for (const auto& part : parse::split(text, ',')) {
    std::string t = parse::trim(part);
    double scale = 1;
    if (t.size() > 3 && t.substr(t.size() - 3) == "deg") t.resize(t.size() - 3), scale = M_PI / 180.0;
    char* end = nullptr;
    const double d = std::strtod(t.c_str(), &end);
    if (t.empty() || !end || *end != '\0' || !std::isfinite(d))
      throw UsageError("--edit: '" + what + "': '" + part + "' is not a number",
                       "write e.g. 3:move=2,0,0 or 3:rotate=30deg (docs/data-format.md, 'Edits')");
    out.push_back(d * scale);
  }
  if (out.size() < min_n || out.size() > max_n)
    throw UsageError("--edit: '" + what + "' takes " + std::to_string(min_n) +
                         (max_n > min_n ? " or " + std::to_string(max_n) : std::string()) + " number(s)",
                     "e.g. move=dx,dy,dz shift=du,dv to=u,v zoom=z rotate=dry mesh=k scale=s");
  return out;
}

std::string ids_text(const Scene& scene) {
  std::string s;
  for (const auto& [id, o] : scene.objects) s += (s.empty() ? "" : ", ") + std::to_string(id);
  return s.empty() ? "none" : s;
}

// torch::remainder(a + pi, 2 pi) - pi, as decode_pose wraps alpha.
double wrap_pi(double a) {
  double r = std::fmod(a + M_PI, 2 * M_PI);
  if (r < 0) r += 2 * M_PI;
  return r - M_PI;
}

// The projected centre (u, v) of a translation (x right, y up, z backwards): u = f x / -z + cx, v = f y / z + cy.
std::array<double, 2> project(const std::array<double, 3>& t, const data::Intrinsics& K) {
  return {K.fx * t[0] / -t[2] + K.cx, K.fx * t[1] / t[2] + K.cy};
}

// The translation at `distance` along the ray through pixel (u, v) (camera.hpp decode_pose: (u, -v, -1) normalised).
std::array<double, 3> on_ray(double u, double v, double distance, const data::Intrinsics& K) {
  const double x = (u - K.cx) / K.fx, y = -(v - K.cy) / K.fx;
  const double n = std::sqrt(x * x + y * y + 1);
  return {distance * x / n, distance * y / n, -distance / n};
}

double norm(const std::array<double, 3>& t) { return std::sqrt(t[0] * t[0] + t[1] * t[1] + t[2] * t[2]); }

void apply_one(SceneObject& o, const ObjectEdit& e, const data::Intrinsics& K, std::vector<std::string>& log) {
  if (e.remove) {
    o.deleted = true;
    log.push_back("object " + std::to_string(o.id) + ": deleted");
    return;
  }
  std::string what;
  if (e.rotate != 0) o.theta -= e.rotate, what += " rotate";
  if (e.scale != std::array<double, 3>{1, 1, 1}) {
    for (int a = 0; a < 3; ++a) o.scale[a] *= e.scale[a];
    what += " scale";
  }
  if (e.mesh && *e.mesh != o.mesh) {
    o.mesh = *e.mesh;
    o.mesh_name.clear();
    o.ffd_coeffs.assign(o.ffd_coeffs.size(), 0.0);
    what += " mesh";
  }
  if (e.to || e.shift) {
    const auto c = project(o.translation, K);
    const double u = e.to ? (*e.to)[0] : c[0] + (*e.shift)[0], v = e.to ? (*e.to)[1] : c[1] + (*e.shift)[1];
    o.translation = on_ray(u, v, norm(o.translation), K);
    what += e.to ? " to" : " shift";
  }
  if (e.zoom != 1) {
    for (auto& x : o.translation) x /= e.zoom;
    what += " zoom";
  }
  if (e.move) {
    // vKITTI camera frame (y down, z forward) to the derenderer's (y up, z backwards).
    o.translation[0] += (*e.move)[0], o.translation[1] -= (*e.move)[1], o.translation[2] -= (*e.move)[2];
    what += " move";
  }
  if (o.translation[2] >= -1e-3)
    throw UsageError("--edit '" + e.text + "': object " + std::to_string(o.id) + " would end behind the camera",
                     "keep it in front (z forward > 0): a smaller move, or a zoom above 0");
  o.edited = true;
  update_derived(o, K);
  log.push_back("object " + std::to_string(o.id) + ":" + (what.empty() ? " unchanged" : what) + " (" + e.text + ")");
}

}  // namespace

Scene scene_from_json(const std::string& text, const std::string& path) {
  Scene scene;
  try {
    const auto d = json::parse(text);
    if (!d.is_object()) throw std::runtime_error("not an object keyed by instance value");
    for (auto it = d.begin(); it != d.end(); ++it) {
      const auto& j = it.value();
      SceneObject o;
      o.id = std::stoi(it.key());
      o.class_id = j.at("class_id").get<int>();
      o.track_id = j.value("track_id", -1);
      o.depth = j.at("depth").get<double>();
      o.alpha = j.at("alpha").get<double>();
      o.theta = j.at("theta").get<double>();
      o.rotation = array_of<4>(j, "rotation");
      o.translation = array_of<3>(j, "translation");
      o.scale = array_of<3>(j, "scale");
      o.center2d = array_of<2>(j, "center2d");
      o.zoom = j.at("zoom").get<double>();
      o.mesh = j.at("mesh").get<int>();
      o.mesh_name = j.value("mesh_name", std::string());
      o.ffd_coeffs = j.at("ffd_coeffs").get<std::vector<double>>();
      scene.objects[o.id] = o;
    }
  } catch (const std::exception& e) {
    throw UsageError(path + " is not a derenderer prediction of sdn: " + e.what(),
                     "point --geometric at the `sdn predict --out` directory of a derender run (docs/data-format.md)");
  }
  return scene;
}

std::string scene_to_json(const Scene& scene) {
  json d = json::object();
  for (const auto& [id, o] : scene.objects) {
    if (o.deleted) continue;
    d[std::to_string(id)] = {{"class_id", o.class_id},     {"track_id", o.track_id},   {"depth", o.depth},
                             {"alpha", o.alpha},           {"theta", o.theta},         {"rotation", o.rotation},
                             {"translation", o.translation}, {"scale", o.scale},       {"center2d", o.center2d},
                             {"zoom", o.zoom},             {"mesh", o.mesh},           {"mesh_name", o.mesh_name},
                             {"ffd_coeffs", o.ffd_coeffs}, {"edited", o.edited}};
  }
  return d.dump(4) + "\n";
}

std::vector<ObjectEdit> parse_edit_text(const std::string& text) {
  std::vector<ObjectEdit> out;
  for (const auto& item : parse::split(text, ';')) {
    const std::string t = parse::trim(item);
    if (t.empty()) continue;
    const auto parts = parse::split(t, ':');
    ObjectEdit e;
    e.text = t;
    char* end = nullptr;
    const std::string who = parse::trim(parts[0]);
    const long id = who == "largest" ? kLargest : std::strtol(who.c_str(), &end, 10);
    if (parts.size() < 2 || (id != kLargest && (!end || *end != '\0' || id <= 0)))
      throw UsageError("--edit: '" + t + "' does not start with an object id and ':'",
                       "write OBJ:OP=VALUE, OBJ = the object's value in the predicted instance map (a key of "
                       "NNNNN.json) or `largest`");
    e.object = static_cast<int>(id);
    for (size_t i = 1; i < parts.size(); ++i) {
      const std::string op = parse::trim(parts[i]);
      const auto eq = op.find('=');
      const std::string name = parse::trim(op.substr(0, eq)), value = eq == std::string::npos ? "" : op.substr(eq + 1);
      if (name == "delete" && eq == std::string::npos) { e.remove = true; continue; }
      if (eq == std::string::npos)
        throw UsageError("--edit: '" + op + "' in '" + t + "' has no value", "write e.g. move=2,0,0");
      if (name == "move") { auto v = numbers(value, op, 3, 3); e.move = {v[0], v[1], v[2]}; }
      else if (name == "shift") { auto v = numbers(value, op, 2, 2); e.shift = {v[0], v[1]}; }
      else if (name == "to") { auto v = numbers(value, op, 2, 2); e.to = {v[0], v[1]}; }
      else if (name == "zoom") {
        e.zoom = numbers(value, op, 1, 1)[0];
        if (e.zoom <= 0) throw UsageError("--edit: '" + op + "': zoom must be above 0", "zoom 2 halves the distance");
      } else if (name == "rotate") e.rotate = numbers(value, op, 1, 1)[0];
      else if (name == "mesh") {
        const double m = numbers(value, op, 1, 1)[0];
        if (m != std::floor(m) || m < 0)
          throw UsageError("--edit: '" + op + "': the mesh is an index 0..7", "e.g. mesh=3");
        e.mesh = static_cast<int>(m);
      } else if (name == "scale") {
        auto v = numbers(value, op, 1, 3);
        if (v.size() == 2)
          throw UsageError("--edit: '" + op + "': scale takes 1 or 3 factors", "scale=1.2 or scale=1.2,1,1");
        e.scale = v.size() == 1 ? std::array<double, 3>{v[0], v[0], v[0]} : std::array<double, 3>{v[0], v[1], v[2]};
        for (double s : e.scale)
          if (s <= 0) throw UsageError("--edit: '" + op + "': scale factors must be above 0", "e.g. scale=1.2");
      } else {
        throw UsageError("--edit: unknown operation '" + name + "' in '" + t + "'",
                         "operations: move=dx,dy,dz shift=du,dv to=u,v zoom=z rotate=dry mesh=k scale=s delete");
      }
    }
    out.push_back(e);
  }
  if (out.empty()) throw UsageError("--edit: no edit in '" + text + "'", "e.g. --edit \"3:move=2,0,0\"");
  return out;
}

std::vector<EditEntry> parse_edit_json(const std::string& text, const std::string& path) {
  std::vector<EditEntry> out;
  size_t index = 0;
  try {
    const auto d = json::parse(text);
    if (!d.is_array()) throw std::runtime_error("the top level is not a list of entries");
    for (; index < d.size(); ++index) {
      const auto& j = d[index];
      EditEntry e;
      e.world = j.at("world").get<std::string>();
      e.variation = j.at("topic").get<std::string>();
      e.source = static_cast<int>(number(j.at("source"), "source"));
      if (j.contains("target") && !j.at("target").is_null())
        e.target = static_cast<int>(number(j.at("target"), "target"));
      for (const auto& op : j.at("operations")) {
        ObjectEdit o;
        o.text = op.dump();
        const auto type = op.value("type", std::string("modify"));
        if (type != "modify" && type != "delete")
          throw std::runtime_error("operation type '" + type + "' (modify|delete)");
        if (op.contains("object")) {
          o.object = op.at("object").get<int>();
        } else {
          const auto& from = op.at("from");
          o.from = std::array<double, 2>{number(from.at("u"), "from.u"), number(from.at("v"), "from.v")};
        }
        if (type == "delete") { o.remove = true; e.edits.push_back(o); continue; }
        const auto& to = op.contains("to") && op.at("to").is_object() ? op.at("to") : json::object();
        if (to.contains("u") || to.contains("v")) {
          if (!o.from && !(to.contains("u") && to.contains("v")))
            throw std::runtime_error("\"to\" needs both u and v when the operation names an object");
          const double u = to.contains("u") ? number(to.at("u"), "to.u") : (*o.from)[0];
          const double v = to.contains("v") ? number(to.at("v"), "to.v") : (*o.from)[1];
          o.to = std::array<double, 2>{u, v};
        }
        if (op.contains("zoom") && !op.at("zoom").is_null()) o.zoom = number(op.at("zoom"), "zoom");
        if (o.zoom <= 0) throw std::runtime_error("zoom must be above 0");
        if (op.contains("ry") && !op.at("ry").is_null()) o.rotate = number(op.at("ry"), "ry");
        if (op.contains("move")) o.move = array_of<3>(op, "move");
        if (op.contains("mesh")) o.mesh = op.at("mesh").get<int>();
        if (op.contains("scale")) {
          const auto& s = op.at("scale");
          o.scale = s.is_array() ? array_of<3>(op, "scale")
                                 : std::array<double, 3>{number(s, "scale"), number(s, "scale"), number(s, "scale")};
        }
        e.edits.push_back(o);
      }
      out.push_back(e);
    }
  } catch (const UsageError&) {
    throw;
  } catch (const std::exception& e) {
    throw UsageError(path + ": entry " + std::to_string(index) + ": " + e.what(),
                     "use the format of 3D-SDN's assets/vkitti_edit_benchmark.json (docs/data-format.md, 'Edits')");
  }
  return out;
}

void update_derived(SceneObject& o, const data::Intrinsics& K) {
  o.rotation = {std::cos(o.theta / 2), 0, std::sin(o.theta / 2), 0};
  o.depth = norm(o.translation);
  o.alpha = wrap_pi(-(o.theta - std::atan(o.translation[0] / o.translation[2])));
  const auto c = project(o.translation, K);
  o.center2d = {c[1], c[0]};
}

std::vector<std::string> apply_edits(Scene& scene, const std::vector<ObjectEdit>& edits, const EditFrame& frame) {
  std::vector<std::string> log;
  std::vector<std::pair<int, const ObjectEdit*>> plan;
  std::vector<const ObjectEdit*> by_pixel;
  for (const auto& e : edits) {
    if (e.object == 0) { by_pixel.push_back(&e); continue; }
    if (e.object == kLargest) {
      int best = 0;
      long most = 0;
      for (const auto& [id, o] : scene.objects) {
        auto it = frame.visible_pixels.find(id);
        if (it != frame.visible_pixels.end() && it->second > most) most = it->second, best = id;
      }
      if (best == 0)
        throw UsageError("edit '" + e.text + "': no derendered object of this frame is visible",
                         "pick a frame whose predicted instance map NNNNN.png shows an object of NNNNN.json");
      plan.emplace_back(best, &e);
      continue;
    }
    if (!scene.objects.count(e.object))
      throw UsageError("edit '" + e.text + "': object " + std::to_string(e.object) +
                           " is not a derendered object of this frame (its objects: " + ids_text(scene) + ")",
                       "name an object by its value in the predicted instance map NNNNN.png (a key of NNNNN.json)");
    plan.emplace_back(e.object, &e);
  }
  if (!by_pixel.empty()) {
    if (scene.objects.empty())
      throw UsageError("edit '" + by_pixel.front()->text + "': the frame has no derendered object",
                       "pick a frame whose NNNNN.json lists objects");
    auto centre = [&](const SceneObject& o) {
      auto it = frame.box_centres.find(o.id);
      return it != frame.box_centres.end() ? it->second : std::array<double, 2>{o.center2d[1], o.center2d[0]};
    };
    auto dist2 = [&](const SceneObject& o, const ObjectEdit* e) {
      const auto c = centre(o);
      const double du = c[0] - (*e->from)[0], dv = c[1] - (*e->from)[1];
      return du * du + dv * dv;
    };
    // main.py _test: with fewer objects than operations each object takes its nearest operation, otherwise each
    // operation its nearest object.
    if (scene.objects.size() < by_pixel.size()) {
      for (const auto& [id, o] : scene.objects) {
        const ObjectEdit* best = nullptr;
        for (const auto* e : by_pixel)
          if (!best || dist2(o, e) < dist2(o, best)) best = e;
        plan.emplace_back(id, best);
      }
    } else {
      for (const auto* e : by_pixel) {
        int best = 0;
        double bd = std::numeric_limits<double>::infinity();
        for (const auto& [id, o] : scene.objects)
          if (dist2(o, e) < bd) bd = dist2(o, e), best = id;
        plan.emplace_back(best, e);
      }
    }
  }
  for (const auto& [id, e] : plan) {
    auto& o = scene.objects.at(id);
    if (o.deleted) continue;
    apply_one(o, *e, frame.K, log);
  }
  return log;
}

}  // namespace sdn::train
