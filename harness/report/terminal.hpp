// The report of one run as text for the terminal: the run's header, the ladder in text (see
// report/ladder.hpp), then the expectations with their evidence.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "expectations/expect.hpp"
#include "expectations/observations.hpp"
#include "report/report.hpp"

namespace socklab {

// At most 100 columns per line; ANSI colors when `color`. Drawn from the report's JSON alone;
// the second form builds that JSON first.
std::string render_terminal(const nlohmann::json& report, bool color);
std::string render_terminal(const RunInfo& run, const Observations& seen, const std::vector<Outcome>& outcomes,
                            bool color);

}  // namespace socklab
