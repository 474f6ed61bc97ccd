// The report of one run as one self-contained HTML page, for a reader without the pcap: the
// ladder diagram (inline SVG), the expectations with their verdicts and evidence, parameters,
// sysctls per side, kernel, checkpoints with what sock_diag saw, and links to the run's files.
// Drawn from report.json alone, with no scripts, fonts or styles from elsewhere.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace socklab {

// Deterministic: the same report gives the same bytes.
std::string render_html(const nlohmann::json& report);

// Writes ladder.svg and report.html into the run directory `dir`, next to report.json. Throws
// std::runtime_error naming the file that cannot be written.
void write_pictures(const std::string& dir, const nlohmann::json& report);

}  // namespace socklab
