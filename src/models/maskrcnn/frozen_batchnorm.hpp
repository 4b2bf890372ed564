// Mask R-CNN's BatchNorm: every BN always normalises with its running statistics, which never change (the
// original's set_bn_fix plus set_bn_eval), eps 1e-3 Caffe-style. It is the shared models::FrozenBatchNorm2d
// (models/norm.hpp: torch.nn.BatchNorm2d's state_dict names, weight and bias as parameters without gradient).
#pragma once

#include "models/norm.hpp"

namespace sdn::models::maskrcnn {

using models::FrozenBatchNorm2d;
using models::FrozenBatchNorm2dImpl;

}  // namespace sdn::models::maskrcnn
