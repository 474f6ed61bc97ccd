// The report of one run as one self-contained HTML page, for a reader without the pcap: the
// ladder diagram (inline SVG), the expectations with their verdicts and evidence, parameters,
// sysctls per side, kernel, checkpoints with what sock_diag saw, and links to the run's files.
// Drawn from report.json alone, with no scripts, fonts or styles from elsewhere.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/capture_report.hpp"

namespace socklab {

// Deterministic: the same report gives the same bytes.
std::string render_html(const nlohmann::json& report);

// The page of a capture (socklab ladder): what the file held (`about`, one sentence), the caveats of
// inference, the table of its connections, and the diagram of each of `reports` (capture_report_json),
// drawn by render_svg as a run's is. Self-contained and deterministic as a run's page.
std::string render_capture_html(const std::string& file, const std::string& about,
                                const std::vector<ConnectionRow>& rows, const std::vector<nlohmann::json>& reports);

// Writes ladder.svg and report.html into the run directory `dir`, next to report.json. Throws
// std::runtime_error naming the file that cannot be written.
void write_pictures(const std::string& dir, const nlohmann::json& report);

}  // namespace socklab
