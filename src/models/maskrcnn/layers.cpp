// Implements the named parameter sets (see layers.hpp).
#include "models/maskrcnn/layers.hpp"

#include <map>
#include <regex>

namespace sdn::models::maskrcnn {

std::string layer_regex(const std::string& layers) {
  static const std::string heads =
      R"((fpn.P5\_.*)|(fpn.P4\_.*)|(fpn.P3\_.*)|(fpn.P2\_.*)|(rpn.*)|(classifier.*)|(mask.*))";
  static const std::map<std::string, std::string> table = {
      {"heads", heads},
      {"3+", "(fpn.C3.*)|(fpn.C4.*)|(fpn.C5.*)|" + heads},
      {"4+", "(fpn.C4.*)|(fpn.C5.*)|" + heads},
      {"5+", "(fpn.C5.*)|" + heads},
      {"all", ".*"},
  };
  auto it = table.find(layers);
  return it == table.end() ? layers : it->second;
}

const std::string& transfer_layer_regex() {
  static const std::string r = "(mask.conv5.*)|(classifier.linear_class.*)|(classifier.linear_bbox.*)";
  return r;
}

bool full_match(const std::string& regex, const std::string& name) {
  // Python's "\_" is a literal underscore; ECMAScript rejects the escape, so it is removed first.
  std::string r;
  for (size_t i = 0; i < regex.size(); ++i) {
    if (regex[i] == '\\' && i + 1 < regex.size() && regex[i + 1] == '_') continue;
    r += regex[i];
  }
  return std::regex_match(name, std::regex(r));
}

}  // namespace sdn::models::maskrcnn
