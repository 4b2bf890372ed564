// Counter-based randomness: every random decision is a pure function of (seed, stream, epoch, index, ...),
// so results never depend on which rank or thread computes them and resuming needs no RNG state.
#pragma once

#include <cstdint>
#include <initializer_list>

namespace sdn {

// SplitMix64 finaliser: a bijective, well-mixed 64-bit hash step.
constexpr std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Hash of a key tuple, order-sensitive.
inline std::uint64_t hash_key(std::initializer_list<std::uint64_t> parts) {
  std::uint64_t h = 0x5d4e3ULL;
  for (auto p : parts) h = mix64(h ^ mix64(p));
  return h;
}

// A small stream of random numbers derived from one key; cheap to create per sample.
class KeyedRng {
 public:
  explicit KeyedRng(std::uint64_t key) : state_(key) {}
  KeyedRng(std::initializer_list<std::uint64_t> parts) : state_(hash_key(parts)) {}
  std::uint64_t next() { return mix64(state_++); }
  // Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n).
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }

 private:
  std::uint64_t state_;
};

}  // namespace sdn
