// Technology/energy table (configs/tech/*.yaml): per-event energies with their sources.
#pragma once

#include <map>
#include <vector>
#include <string>

namespace mixpe::sim {

struct TechEntry {
  double value = 0.0;
  std::string source;
};

struct TechTable {
  std::string name;
  std::string file;
  std::map<std::string, TechEntry> entries;
  // Throws std::out_of_range naming the table and key when missing.
  double at(const std::string& key) const;
};

// Keys every table must define.
const std::vector<std::string>& required_tech_keys();
// `name_or_path`: a table name under configs/tech/ or a .yaml path. Throws std::invalid_argument
// naming the file, key and value on a missing key, a non-numeric or negative value.
TechTable load_tech_table(const std::string& name_or_path);
TechTable parse_tech_table(const std::string& yaml_text, const std::string& source);

}  // namespace mixpe::sim
