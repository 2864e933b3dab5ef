// Reports of a simulation: terminal summary, JSON (docs/reports.md schema) and per-op CSV.
#pragma once

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/executor.h"

namespace mixpe::runtime {

inline constexpr const char* kSimulateSchema = "mixpe.simulate/1";

void print_summary(const SimulationReport& r, std::FILE* out);
nlohmann::json report_json(const SimulationReport& r);
std::string report_csv(const SimulationReport& r);

// Writes `text` to `path` atomically (models::AtomicFileWriter: a temporary file, then rename), so
// a failed run never leaves a half-written file. Throws naming the path.
void write_file_atomic(const std::string& path, const std::string& text);

}  // namespace mixpe::runtime
