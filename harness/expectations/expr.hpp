// Arithmetic over a scenario's names: "backlog + 1", "min(backlog, server.net.core.somaxconn)",
// "(1 + syn_sent.retransmits) * (connections - backlog - 1)". Expectations are written this way
// so that a value the kernel decides is derived from parameters and sysctls, never typed in.
#pragma once
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

namespace socklab {

// Looks a name up; nullopt when it is unknown.
using Lookup = std::function<std::optional<double>(const std::string&)>;

struct ExprError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Grammar: numbers, names ([A-Za-z_][A-Za-z0-9_.]*), + - * / unary -, parentheses,
// min(a, b, ...), max(a, b, ...), has(name) (1 when the name is known here, e.g. a sysctl this
// kernel has, else 0), and one comparison (< <= > >= == !=) giving 1 or 0. Throws ExprError naming the problem and the expression.
double evaluate(const std::string& expr, const Lookup& lookup);

}  // namespace socklab
