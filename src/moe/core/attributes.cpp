#include "moe/core/attributes.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "moe/core/error.hpp"

namespace moe {

const AttributeValue& attribute(const Attributes& a, const std::string& key) {
  const auto it = a.find(key);
  require(it != a.end(), "model attribute '" + key + "' is missing");
  return it->second;
}

std::string attribute_text(const AttributeValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  if (const auto* i = std::get_if<std::int64_t>(&value)) return std::to_string(*i);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", std::get<double>(value));
  return buf;
}

std::string text_attribute(const Attributes& a, const std::string& key) {
  const AttributeValue& v = attribute(a, key);
  require(std::holds_alternative<std::string>(v), "model attribute '" + key + "' is not text: " + attribute_text(v));
  return std::get<std::string>(v);
}

std::uint64_t count_attribute(const Attributes& a, const std::string& key) {
  const AttributeValue& v = attribute(a, key);
  if (const auto* i = std::get_if<std::int64_t>(&v)) {
    require(*i >= 0, "model attribute '" + key + "' is not a count: " + std::to_string(*i));
    return std::uint64_t(*i);
  }
  const std::string text = attribute_text(v);
  char* end = nullptr;
  errno = 0;
  const unsigned long long n = std::strtoull(text.c_str(), &end, 10);
  require(std::holds_alternative<std::string>(v) && !text.empty() && text[0] != '-' && errno == 0 &&
              end == text.c_str() + text.size(),
          "model attribute '" + key + "' is not a count: '" + text + "'");
  return n;
}

double number_attribute(const Attributes& a, const std::string& key) {
  const AttributeValue& v = attribute(a, key);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return double(*i);
  const std::string& text = std::get<std::string>(v);
  char* end = nullptr;
  const double x = std::strtod(text.c_str(), &end);
  require(!text.empty() && end == text.c_str() + text.size(),
          "model attribute '" + key + "' is not a number: '" + text + "'");
  return x;
}

bool flag_attribute(const Attributes& a, const std::string& key) {
  const AttributeValue& v = attribute(a, key);
  if (const auto* i = std::get_if<std::int64_t>(&v)) {
    require(*i == 0 || *i == 1, "model attribute '" + key + "' is not 0 or 1: " + std::to_string(*i));
    return *i == 1;
  }
  const std::string text = attribute_text(v);
  require(text == "true" || text == "false", "model attribute '" + key + "' is not a flag: '" + text + "'");
  return text == "true";
}

}  // namespace moe
