// The textural branch's learning-rate schedule (train.py + Pix2PixHDModel.update_learning_rate): niter epochs
// at the base rate, then niter_decay epochs in which the rate drops by base / niter_decay after each epoch.
#pragma once

#include <cstdint>

namespace sdn::models::textural {

// The rate the 0-based `epoch` trains with: base for epochs 0 .. niter, then base - k * base / niter_decay
// for epoch niter + k, repeated subtraction in double as the original, so the last epoch (niter + niter_decay
// - 1) trains at base / niter_decay and 0 is reached only after it; 0 for any later epoch.
double textural_learning_rate(double base, std::int64_t epoch, std::int64_t niter = 100,
                              std::int64_t niter_decay = 100);

}  // namespace sdn::models::textural
