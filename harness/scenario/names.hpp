// The names an expression of a description may use, and what each stands for: decided here
// alone, for checking a description when it is loaded and for evaluating it during a run.
#pragma once
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "expectations/expr.hpp"
#include "expectations/observations.hpp"
#include "scenario/scenario.hpp"
#include "topology/topology.hpp"

namespace socklab {

// Where an expression is written, which decides the names it may use:
enum class Context {
    parameter,    // a parameter's default: the other parameters
    sysctl,       // a sysctl to write: the parameters
    variant,      // let, args, floors, deadlines, until counts: also the let names, "<side>.net.*"
                  // sysctls as read back, the kernel-rule values (rule_names()), and the run's
                  // address family: ipv6 (1 when the hosts talk IPv6) and mapped (1 when the
                  // server's socket is a dual-stack IPv6 one and the wire IPv4)
    expectation,  // also what the run observed at one of the variant's checkpoints:
                  //   sockets.<checkpoint>.<side>.<STATE>.count|recv_q|send_q  sockets in STATE, queues summed
                  //   sockets.<checkpoint>.<side>.<STATE>.min_recv_q|max_recv_q|min_send_q|max_send_q  the
                  //                                      smallest and largest queue of one of them
                  //   sockets.<checkpoint>.<side>.<STATE>.expires  ms until the first of their timers fires
                  //   calls.<checkpoint>.<side>.<call>.count|total|<ERRNO>     reports of <call> up to then, the
                  //                                      sum of their non-negative returns, those failed with ERRNO
};

// The kernel-rule values: syn_sent.retransmits, syn_sent.timeout, syn_recv.retransmits,
// syn_recv.first, syn_recv.lifetime, established.retransmits, established.timeout, persist.first,
// persist.probes, persist.timeout, persist.at, delack.min, pingpong.thresh (kernel_rules.hpp).
const std::vector<std::string>& rule_names();

// Parameter values: defaults, then the variant's set, then the user's --set (each checked against
// its range, a bad one named with its allowed values). Throws ScenarioError.
std::map<std::string, double> resolve_params(const Scenario& s, const Variant& v,
                                             const std::map<std::string, std::string>& user_set);

// A variant's floor (seconds of kernel timers it waits for) at the default parameters, with the
// variant's own "set" and the sysctls the scenario writes from them. Without `with_rules`,
// nullopt when it needs a kernel rule's value (known for sure only on the test hosts); with it,
// the rules as they are at the kernel's default sysctls (what a new namespace has): an estimate
// for ordering runs, nullopt only when it cannot be evaluated at all.
std::optional<double> floor_at_defaults(const Scenario& s, const Variant& v, bool with_rules = false);

class Names {
public:
    explicit Names(const Scenario& s) : s_(s) {}

    // May an expression in this context name it? `checkpoints`: the variant's, for observed names.
    bool known(const std::string& name, Context context, const std::set<std::string>& checkpoints = {}) const;

    // The values, filled in as the run learns them.
    std::map<std::string, double> params;
    std::map<std::string, Sysctls> sysctls;  // side -> as read back
    std::map<std::string, double> rules;
    Family family = Family::ipv4;
    const Observations* seen = nullptr;      // once the run has its evidence

    // The value of a name, or nullopt when it has none (yet). Throws ExprError for a let that
    // refers to itself, or an observed name whose checkpoint the run never reached.
    std::optional<double> value(const std::string& name) const;
    double eval(const std::string& expr) const;
    Lookup lookup() const {
        return [this](const std::string& n) { return value(n); };
    }

private:
    const Scenario& s_;
    mutable std::set<std::string> resolving_;  // let names being evaluated, against cycles
};

}  // namespace socklab
