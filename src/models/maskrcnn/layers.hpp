// The original's named parameter sets (model.py train_model): the regexes that pick the trainable parameters of
// each training stage ("heads", "3+", "4+", "5+", "all"), matched in full against state_dict names as
// re.fullmatch does, and the transfer stage's newly initialised layers (lr 1e-2, dropped from the COCO weights).
#pragma once

#include <string>
#include <vector>

namespace sdn::models::maskrcnn {

// Regex of a predefined layer set; a string that is not one of the names is returned unchanged (the original
// accepted a custom regex in their place).
std::string layer_regex(const std::string& layers);

// "(mask.conv5.*)|(classifier.linear_class.*)|(classifier.linear_bbox.*)": the 6 tensors load_weights(transfer=1)
// drops from the COCO state_dict and the transfer stage trains at lr 1e-2.
const std::string& transfer_layer_regex();

// True when `regex` matches all of `name` (re.fullmatch).
bool full_match(const std::string& regex, const std::string& name);

}  // namespace sdn::models::maskrcnn
