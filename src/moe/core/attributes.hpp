#pragma once
// Typed key/value attributes, as a spec is saved in a results file (/model): text, whole numbers (counts;
// on/off settings as 0 or 1) and real numbers, each stored with its own HDF5 type so that h5py reads
// numbers as numbers. The readers also accept the text form every attribute had in files written before
// the attributes were typed ("4", "0.5", "true"), so old files load unchanged.
#include <cstdint>
#include <map>
#include <string>
#include <variant>

namespace moe {

using AttributeValue = std::variant<std::string, std::int64_t, double>;
using Attributes = std::map<std::string, AttributeValue>;

// Readers: moe::Error "model attribute 'KEY' is missing" or "... is not a count/number/flag: 'VALUE'".
const AttributeValue& attribute(const Attributes& a, const std::string& key);
std::string text_attribute(const Attributes& a, const std::string& key);
std::uint64_t count_attribute(const Attributes& a, const std::string& key);  // >= 0
double number_attribute(const Attributes& a, const std::string& key);         // finite or not, as stored
bool flag_attribute(const Attributes& a, const std::string& key);             // 0/1 (or "false"/"true")

// The value as text, for messages and comparisons ("4", "0.5", "relu").
std::string attribute_text(const AttributeValue& value);

}  // namespace moe
