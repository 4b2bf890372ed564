// Wavefront .obj I/O and the ShapeNet normalisation of the original (geometric/derender3d/models/__init__.py
// ShapenetObj over neural_renderer's load_obj). Errors name file:line and what is wrong.
#include "data/mesh.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <utility>

#include "core/error.hpp"
#include "core/fs.hpp"

namespace sdn::data {
namespace {

[[noreturn]] void bad_line(const std::string& origin, std::int64_t line, const std::string& what) {
  throw Error(origin + ":" + std::to_string(line) + ": " + what,
              "a mesh file needs `v x y z` and `f i j k ...` lines with 1-based vertex indices");
}

float parse_float(const std::string& tok, const std::string& origin, std::int64_t line) {
  char* end = nullptr;
  errno = 0;
  const float v = std::strtof(tok.c_str(), &end);
  if (end == tok.c_str() || *end != '\0' || errno == ERANGE || !std::isfinite(v))
    bad_line(origin, line, "`" + tok + "` is not a finite number");
  return v;
}

// The vertex part of `i`, `i/t`, `i//n` or `i/t/n`, resolved to a 0-based index (negative = relative).
std::int32_t parse_corner(const std::string& tok, std::int64_t vertex_count, const std::string& origin,
                          std::int64_t line) {
  const std::string head = tok.substr(0, tok.find('/'));
  char* end = nullptr;
  errno = 0;
  const long long i = std::strtoll(head.c_str(), &end, 10);
  if (head.empty() || *end != '\0' || errno == ERANGE) bad_line(origin, line, "`" + tok + "` is not a vertex index");
  const long long zero_based = i > 0 ? i - 1 : vertex_count + i;
  if (i == 0 || zero_based < 0 || zero_based >= vertex_count)
    bad_line(origin, line,
             "vertex index " + head + " is out of range (" + std::to_string(vertex_count) + " vertices so far)");
  return static_cast<std::int32_t>(zero_based);
}

}  // namespace

Mesh parse_obj(const std::string& text, const std::string& origin) {
  Mesh mesh;
  mesh.name = origin;
  std::istringstream in(text);
  std::string raw;
  std::int64_t line = 0;
  std::vector<std::string> toks;
  while (std::getline(in, raw)) {
    ++line;
    toks.clear();
    std::istringstream ls(raw);
    for (std::string t; ls >> t;) toks.push_back(t);
    if (toks.empty() || toks[0][0] == '#') continue;
    if (toks[0] == "v") {
      if (toks.size() < 4) bad_line(origin, line, "a `v` line needs three coordinates");
      mesh.vertices.push_back({parse_float(toks[1], origin, line), parse_float(toks[2], origin, line),
                               parse_float(toks[3], origin, line)});
    } else if (toks[0] == "f") {
      if (toks.size() < 4) bad_line(origin, line, "a face needs at least three corners");
      const auto n = static_cast<std::int64_t>(mesh.vertices.size());
      const std::int32_t v0 = parse_corner(toks[1], n, origin, line);
      std::int32_t prev = parse_corner(toks[2], n, origin, line);
      for (size_t k = 3; k < toks.size(); ++k) {
        const std::int32_t cur = parse_corner(toks[k], n, origin, line);
        mesh.faces.push_back({v0, prev, cur});
        prev = cur;
      }
    }
  }
  if (mesh.vertices.empty() || mesh.faces.empty())
    throw Error(origin + ": no " + std::string(mesh.vertices.empty() ? "vertices (`v` lines)" : "faces (`f` lines)"),
                "point derender.meshes at triangle meshes in Wavefront .obj format");
  return mesh;
}

Mesh load_obj(const std::string& path) { return parse_obj(fs::read_file(path), path); }

std::string obj_text(const Mesh& mesh) {
  std::string out = "# " + (mesh.name.empty() ? std::string("mesh") : mesh.name) + ", written by sdn\n";
  char buf[96];
  for (const auto& v : mesh.vertices) {
    std::snprintf(buf, sizeof buf, "v %.9g %.9g %.9g\n", v[0], v[1], v[2]);
    out += buf;
  }
  for (const auto& f : mesh.faces) {
    std::snprintf(buf, sizeof buf, "f %d %d %d\n", f[0] + 1, f[1] + 1, f[2] + 1);
    out += buf;
  }
  return out;
}

void write_obj(const Mesh& mesh, const std::string& path) { fs::write_atomic(path, obj_text(mesh)); }

void bounds(const Mesh& mesh, std::array<float, 3>& lo, std::array<float, 3>& hi) {
  lo = {INFINITY, INFINITY, INFINITY};
  hi = {-INFINITY, -INFINITY, -INFINITY};
  for (const auto& v : mesh.vertices)
    for (int a = 0; a < 3; ++a) {
      lo[a] = std::min(lo[a], v[a]);
      hi[a] = std::max(hi[a], v[a]);
    }
}

void normalise_shapenet(Mesh& mesh) {
  std::array<float, 3> lo{}, hi{};
  bounds(mesh, lo, hi);
  // nr.load_obj: shift the minimum to 0, divide by the largest extent, double, centre each axis. 3D-SDN then
  // divides by each axis' extent, so only the centring survives: v' = (v - mid) / extent, per axis.
  std::array<float, 3> mid{}, ext{};
  for (int a = 0; a < 3; ++a) {
    ext[a] = hi[a] - lo[a];
    mid[a] = 0.5f * (lo[a] + hi[a]);
    if (!(ext[a] > 0))
      throw Error(mesh.name + ": the mesh is flat along axis " + std::to_string(a),
                  "the derenderer's meshes must be solids with a non-zero extent on every axis");
  }
  for (auto& v : mesh.vertices) {
    const float x = (v[0] - mid[0]) / ext[0], y = (v[1] - mid[1]) / ext[1], z = (v[2] - mid[2]) / ext[2];
    v = {-z, y, x};  // vertices[:, [2, 1, 0]] * [-1, 1, 1]
  }
}

Mesh to_shapenet_frame(const Mesh& mesh) {
  Mesh out = mesh;
  for (auto& v : out.vertices) v = {v[2], v[1], -v[0]};
  return out;
}

Mesh load_shapenet_obj(const std::string& path) {
  Mesh m = load_obj(path);
  normalise_shapenet(m);
  return m;
}

double signed_volume(const Mesh& mesh) {
  double vol = 0;
  for (const auto& f : mesh.faces) {
    const auto &a = mesh.vertices[f[0]], &b = mesh.vertices[f[1]], &c = mesh.vertices[f[2]];
    vol += (double(a[0]) * (double(b[1]) * c[2] - double(b[2]) * c[1]) -
            double(a[1]) * (double(b[0]) * c[2] - double(b[2]) * c[0]) +
            double(a[2]) * (double(b[0]) * c[1] - double(b[1]) * c[0]));
  }
  return vol / 6.0;
}

std::int64_t open_edge_count(const Mesh& mesh) {
  // Directed edges: in a closed, consistently oriented mesh every edge appears once in each direction.
  std::map<std::pair<std::int32_t, std::int32_t>, int> count;
  for (const auto& f : mesh.faces)
    for (int k = 0; k < 3; ++k) ++count[{f[k], f[(k + 1) % 3]}];
  std::int64_t bad = 0;
  for (const auto& [e, n] : count) {
    auto it = count.find({e.second, e.first});
    if (n != 1 || it == count.end() || it->second != 1) ++bad;
  }
  return bad;
}

}  // namespace sdn::data
