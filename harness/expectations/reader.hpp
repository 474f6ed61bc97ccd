// Reading a scenario description's values at a known place in the file, so that every message
// names the file, the place and the problem: used by the description loader for its steps and by
// each kind of expectation for its own keys.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace socklab {

// The two test hosts; each program runs in the namespace of the same name.
inline const std::vector<std::string> kSides{"client", "server"};

struct ScenarioError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The names each program uses, collected from its source at build time (names.json beside the
// programs): side -> "steps" | "marks" | "roles" | "calls" -> names.
struct ProgramNames {
    std::map<std::string, std::map<std::string, std::set<std::string>>> names;
    bool known = false;  // false: not collected (unit tests, fuzzing), nothing is checked against them
};
ProgramNames read_program_names(const std::string& file);  // throws ScenarioError

class Reader {
public:
    using Known = std::function<bool(const std::string&)>;  // may an expression use this name here?
    Reader(std::string file, Known known, const ProgramNames* programs = nullptr)
        : file_(std::move(file)), known_(std::move(known)), programs_(programs) {}
    // The same reader with other expression names (a context with more or fewer of them).
    Reader with_names(Known known) const { return Reader(file_, std::move(known), programs_); }
    // The same reader, knowing `extra` names besides its own (e.g. a segment's fields).
    Reader with_more_names(std::set<std::string> extra) const {
        return with_names([known = known_, extra = std::move(extra)](const std::string& n) { return extra.count(n) > 0 || known(n); });
    }

    [[noreturn]] void fail(const std::string& where, const std::string& what) const;
    // The object's keys are the required ones and some of the optional ones.
    void keys(const nlohmann::json& j, const std::string& where, const std::set<std::string>& required,
              const std::set<std::string>& optional) const;
    std::string str(const nlohmann::json& j, const std::string& where) const;
    // A number or an expression string, returned as expression text after checking its names.
    std::string expr(const nlohmann::json& j, const std::string& where) const;
    std::string side(const std::string& word, const std::string& where) const;
    std::string state(const std::string& word, const std::string& where) const;
    uint8_t flags(const std::string& word, const std::string& where) const;
    std::string errno_name(const nlohmann::json& j, const std::string& where) const;  // any name glibc knows, or "0"
    std::string timer(const nlohmann::json& j, const std::string& where) const;       // none, on, retransmit, ...
    // "kernel >= 6.18", or an expression that is 0 or not.
    std::string condition(const nlohmann::json& j, const std::string& where) const;
    // `name` is one of the side's program's `what` ("steps", "marks", "roles", "calls"); `also`
    // names other accepted values (e.g. "start" for a phase).
    void program_name(const std::string& side, const std::string& what, const std::string& name,
                      const std::string& where, const std::set<std::string>& also = {}) const;

private:
    std::string file_;
    Known known_;
    const ProgramNames* programs_;
};

// Splits "client S." into words.
std::vector<std::string> words(const std::string& text);

// "kernel >= 6.18": a kernel-version bound, for expectations whose rule changed in some release.
struct KernelCondition {
    std::string op;
    int major = 0, minor = 0;
    bool holds(int running_major, int running_minor) const;
};
std::optional<KernelCondition> parse_kernel_condition(const std::string& text);

}  // namespace socklab
