// libFuzzer target: the scenario description loader, parameter resolution and expressions must
// reject any input with a ScenarioError or ExprError, never crash or hang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "expectations/expr.hpp"
#include "scenario/names.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        socklab::Scenario s = socklab::parse_scenario(text, "fuzz.json");
        for (const auto& v : s.variants) socklab::resolve_params(s, v, {{"backlog", "3"}});
    } catch (const socklab::ScenarioError&) {
    }
    try {
        socklab::evaluate(text, [](const std::string& name) -> std::optional<double> {
            if (name == "a") return 3;
            return std::nullopt;
        });
    } catch (const socklab::ExprError&) {
    }
    return 0;
}
