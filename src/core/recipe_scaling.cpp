// Implements the recipe scaling arithmetic (see recipe_scaling.hpp).
#include "core/recipe_scaling.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace sdn::recipe {

std::string parse_rule(const std::string& text, Rule& out) {
  if (text == "none" || text.empty()) out = Rule::kNone;
  else if (text == "linear") out = Rule::kLinear;
  else if (text == "sqrt") out = Rule::kSqrt;
  else return "'" + text + "' is not none|linear|sqrt";
  return {};
}

const char* rule_name(Rule r) { return r == Rule::kLinear ? "linear" : r == Rule::kSqrt ? "sqrt" : "none"; }

Recipe scale(const Recipe& b, int gpus, Rule rule) {
  if (rule == Rule::kNone || gpus < 1 || b.global_batch < 1 || b.per_gpu_batch < 1) return b;
  Recipe s = b;
  s.global_batch = static_cast<std::int64_t>(gpus) * b.per_gpu_batch;
  const double k = static_cast<double>(s.global_batch) / static_cast<double>(b.global_batch);
  s.lr = rule == Rule::kLinear ? b.lr * k : b.lr * std::sqrt(k);
  const std::int64_t images = b.total_steps * b.global_batch;
  s.total_steps = std::max<std::int64_t>(1, (images + s.global_batch - 1) / s.global_batch);
  s.warmup_steps = static_cast<std::int64_t>(std::llround(static_cast<double>(b.warmup_steps) / k));
  if (rule == Rule::kLinear && k > 1)
    s.warmup_steps = std::max<std::int64_t>(
        s.warmup_steps, static_cast<std::int64_t>(std::ceil(kLinearWarmupFraction * static_cast<double>(s.total_steps))));
  s.warmup_steps = std::min(s.warmup_steps, s.total_steps);
  return s;
}

std::string describe(const Recipe& b, const Recipe& s, Rule rule) {
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "global batch %lld (%lld GPUs x %lld), lr %g (%s rule, x%g), warm-up %lld steps, %lld steps (same %lld "
                "images as %lld x %lld)",
                (long long)s.global_batch, (long long)(s.global_batch / std::max<std::int64_t>(1, s.per_gpu_batch)),
                (long long)s.per_gpu_batch, s.lr, rule_name(rule), b.lr > 0 ? s.lr / b.lr : 1.0,
                (long long)s.warmup_steps, (long long)s.total_steps, (long long)(b.total_steps * b.global_batch),
                (long long)b.total_steps, (long long)b.global_batch);
  return buf;
}

}  // namespace sdn::recipe
