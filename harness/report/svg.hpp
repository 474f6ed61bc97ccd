// The ladder diagram of a run (see report/ladder.hpp) as SVG: client on the left, server on the
// right, time downwards, one arrow per packet.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace socklab {

// A standalone SVG element (no XML declaration: it is also inlined in HTML), drawn from
// report.json alone. Deterministic: the same report gives the same bytes.
std::string render_svg(const nlohmann::json& report);

}  // namespace socklab
