#include "scenario/scenario.hpp"

#include <signal.h>
#include <string.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "scenario/names.hpp"

namespace socklab {

using nlohmann::json;

const Param* Scenario::param(const std::string& n) const {
    for (const auto& p : params)
        if (p.name == n) return &p;
    return nullptr;
}

const Variant* Scenario::variant(const std::string& n) const {
    for (const auto& v : variants)
        if (v.name == n) return &v;
    return nullptr;
}

const std::vector<std::string>& command_names() {
    static const std::vector<std::string> names{"port",       "client.addr", "server.addr", "client.if",
                                                "server.if",  "client.mac",  "server.mac"};
    return names;
}

std::string describe(const Step& step) {
    struct {
        std::string operator()(const Start& s) const { return "start " + s.side; }
        std::string operator()(const Wait& w) const {
            return "wait for " + w.side + (w.what == Wait::For::exit ? " exit" : w.what == Wait::For::step ? " before " + w.name : " " + w.name);
        }
        std::string operator()(const Release& r) const { return "release " + r.side + " " + r.name; }
        std::string operator()(const Snapshot& c) const { return "checkpoint " + c.name; }
        std::string operator()(const Until& u) const {
            if (!u.counter.empty()) return "wait until the " + u.side + "'s " + u.counter + " is at least " + u.count;
            return "wait until the " + u.side + " has " + u.count + " " + u.state + " sockets" +
                   (u.timer.empty() ? "" : " with timer " + u.timer);
        }
        std::string operator()(const Command& c) const { return c.tool + " in the " + c.side + " namespace: " + c.text; }
        std::string operator()(const Kill& k) const { return std::string("send SIG") + ::sigabbrev_np(k.signal) + " to the " + k.side; }
    } text;
    return std::visit(text, step.action);
}

std::string checkpoint_of(const Step& step) {
    if (const auto* c = std::get_if<Snapshot>(&step.action)) return c->name;
    if (const auto* u = std::get_if<Until>(&step.action)) return u->checkpoint;
    return "";
}

namespace {

int line_of(const std::string& text, size_t byte) {
    byte = std::min(byte, text.size());
    return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(byte), '\n'));
}

// "until" before "checkpoint": an until step may make a checkpoint too.
const std::vector<std::string> kVerbs{"start", "wait", "release", "until", "checkpoint", "nft", "ip", "kill"};

std::string verb_of(const json& j) {
    for (const auto& v : kVerbs)
        if (j.is_object() && j.contains(v)) return v;
    return "";
}

// One verb: its keys, read into its typed step (names checked against the programs').
Step read_step(const Reader& r, const json& written, const std::string& where) {
    Step s;
    s.where = where;
    json j = written;
    if (j.contains("say")) s.say = r.str(j["say"], where + ".say");
    if (j.contains("ask")) s.ask = r.str(j["ask"], where + ".ask");
    if (j.contains("name")) r.str(j["name"], where + ".name");  // for a variant built on this one to change it
    for (const char* common : {"say", "ask", "name"}) j.erase(common);
    const std::string verb = verb_of(j), w = where + "." + verb;
    if (verb == "start") {
        r.keys(j, where, {"start"}, {});
        s.action = Start{r.side(r.str(j["start"], w), w)};
    } else if (verb == "wait") {
        r.keys(j, where, {"wait"}, {"within"});
        const auto ws = words(r.str(j["wait"], w));
        Wait wait;
        if (ws.size() == 2 && ws[1] == "exit") {
            wait = {Wait::For::exit, r.side(ws[0], w), "", ""};
        } else if (ws.size() == 3 && ws[1] == "before") {
            wait = {Wait::For::step, r.side(ws[0], w), ws[2], ""};
            r.program_name(wait.side, "steps", wait.name, w);
        } else if (ws.size() == 2) {
            wait = {Wait::For::mark, r.side(ws[0], w), ws[1], ""};
            r.program_name(wait.side, "marks", wait.name, w);
        } else {
            r.fail(w, "write \"<side> <mark>\", \"<side> before <step>\" or \"<side> exit\"");
        }
        if (j.contains("within")) wait.within = r.expr(j["within"], where + ".within");
        s.action = wait;
    } else if (verb == "release") {
        r.keys(j, where, {"release"}, {});
        const auto ws = words(r.str(j["release"], w));
        if (ws.size() != 2) r.fail(w, "write \"<side> <step>\", e.g. \"client close\"");
        r.program_name(r.side(ws[0], w), "steps", ws[1], w);
        s.action = Release{ws[0], ws[1]};
    } else if (verb == "checkpoint") {
        r.keys(j, where, {"checkpoint"}, {});
        s.action = Snapshot{r.str(j["checkpoint"], w)};
    } else if (verb == "until") {
        const auto ws = words(r.str(j["until"], w));
        if (ws.size() != 2) r.fail(w, "write \"<side> <STATE>\" or \"<side> TcpExt.<Name>\", e.g. \"server TIME_WAIT\"");
        if (ws[1].find('.') != std::string::npos) {  // a counter: at_least, no timer
            r.keys(j, where, {"until", "at_least", "within"}, {"checkpoint"});
            Until u{r.side(ws[0], w), "", "", r.expr(j["at_least"], where + ".at_least"), r.expr(j["within"], where + ".within"), "", ws[1]};
            if (j.contains("checkpoint")) u.checkpoint = r.str(j["checkpoint"], where + ".checkpoint");
            s.action = u;
            return s;
        }
        r.keys(j, where, {"until", "count", "within"}, {"timer", "checkpoint"});
        Until u{r.side(ws[0], w), r.state(ws[1], w), "", r.expr(j["count"], where + ".count"),
                r.expr(j["within"], where + ".within"), "", ""};
        if (j.contains("timer")) u.timer = r.timer(j["timer"], where + ".timer");
        if (j.contains("checkpoint")) u.checkpoint = r.str(j["checkpoint"], where + ".checkpoint");
        s.action = u;
    } else if (verb == "nft" || verb == "ip") {
        const std::string key = verb == "nft" ? "script" : "args";
        r.keys(j, where, {verb, key}, {});
        Command c{verb, r.side(r.str(j[verb], w), w), r.str(j[key], where + "." + key)};
        // A misspelt name would reach nft or ip as it is, mid-run: refuse it here.
        static const std::regex name(R"(\{([a-z_]+(\.[a-z_]+)?)\})");
        for (std::sregex_iterator m(c.text.begin(), c.text.end(), name), end; m != end; ++m) {
            const auto& known = command_names();
            if (std::find(known.begin(), known.end(), (*m)[1].str()) != known.end()) continue;
            std::string list;
            for (const auto& k : known) list += (list.empty() ? "{" : ", {") + k + "}";
            r.fail(where + "." + key, "unknown name " + (*m)[0].str() + " (known: " + list + ")");
        }
        s.action = c;
    } else if (verb == "kill") {
        r.keys(j, where, {"kill", "signal"}, {});
        const std::string name = r.str(j["signal"], where + ".signal");
        Kill k{r.side(r.str(j["kill"], w), w), 0};
        for (int n = 1; n < NSIG && k.signal == 0; ++n)  // the C library's names: KILL, TERM, STOP...
            if (const char* abbrev = ::sigabbrev_np(n); abbrev && name == abbrev) k.signal = n;
        if (k.signal == 0) r.fail(where + ".signal", "unknown signal \"" + name + "\" (write it as kill -l does: KILL, TERM, STOP)");
        s.action = k;
    }
    return s;
}

// A timeline item as written, with its place in the file.
struct Item {
    json j;
    std::string where;
};

// A variant as written, with what it inherits resolved ("from"), before its items are read.
struct Written {
    std::string doc;
    json set = json::object(), args = json::object(), floor, families, own_cpu;
    std::vector<Item> items;
    bool resolving = false, resolved = false;
};

class Loader {
public:
    Loader(const json& root, const std::string& file, const ProgramNames* programs, Scenario& s)
        : root_(root), s_(s), names_(s), r_(file, [this](const std::string& n) { return names_.known(n, Context::variant); }, programs) {}

    void load() {
        r_.keys(root_, "top level", {"name", "title", "blog", "params", "variants"}, {"let", "sysctls", "args", "expect"});
        s_.name = r_.str(root_["name"], "name");
        s_.title = r_.str(root_["title"], "title");
        s_.blog_section = r_.str(root_["blog"], "blog");
        read_params();
        read_let_and_sysctls();
        if (root_.contains("expect") && !root_["expect"].is_array()) r_.fail("expect", "expected a list of expectations");
        if (!root_["variants"].is_object() || root_["variants"].empty()) r_.fail("variants", "expected at least one variant");
        for (const auto& [name, vj] : root_["variants"].items()) s_.variants.push_back(read_variant(name, written(name)));
    }

private:
    const json& root_;
    Scenario& s_;
    Names names_;
    Reader r_;
    std::map<std::string, Written> written_;

    Reader in(Context c, const std::set<std::string>& checkpoints = {}) const {
        return r_.with_names([this, c, checkpoints](const std::string& n) { return names_.known(n, c, checkpoints); });
    }

    void read_params() {
        if (!root_["params"].is_object()) r_.fail("params", "expected an object of parameters");
        for (const auto& [name, p] : root_["params"].items()) {
            const std::string w = "params." + name;
            r_.keys(p, w, {"default", "min", "max", "help"}, {});
            if (!p["min"].is_number() || !p["max"].is_number()) r_.fail(w, "min and max must be numbers");
            Param param{name, "", p["min"].get<double>(), p["max"].get<double>(), r_.str(p["help"], w + ".help")};
            if (param.min > param.max) r_.fail(w, "min is above max");
            s_.params.push_back(param);
        }
        // Defaults may refer to other parameters, so they are read once all names are known.
        for (auto& param : s_.params)
            param.default_expr = in(Context::parameter).expr(root_["params"][param.name]["default"], "params." + param.name + ".default");
    }

    void read_let_and_sysctls() {
        if (root_.contains("let")) {
            if (!root_["let"].is_object()) r_.fail("let", "expected an object of name: expression");
            for (const auto& [name, value] : root_["let"].items()) {
                if (s_.param(name)) r_.fail("let." + name, "\"" + name + "\" is already a parameter");
                s_.let.emplace_back(name, "");
            }
            for (auto& [name, text] : s_.let) text = r_.expr(root_["let"][name], "let." + name);
        }
        if (!root_.contains("sysctls")) return;
        r_.keys(root_["sysctls"], "sysctls", {}, {"client", "server"});
        for (const auto& [side, table] : root_["sysctls"].items()) {
            if (!table.is_object()) r_.fail("sysctls." + side, "expected an object of sysctl: value");
            for (const auto& [key, value] : table.items()) {
                if (key.rfind("net.", 0) != 0 || key.find("..") != std::string::npos || key.find('/') != std::string::npos)
                    r_.fail("sysctls." + side + "." + key, "only net.* sysctls are per namespace");
                s_.sysctls[side][key] = in(Context::sysctl).expr(value, "sysctls." + side + "." + key);
            }
        }
    }

    // The variant as written, its "from" resolved: the base's set, args, floor and timeline, then
    // this variant's set and args merged over them, its changes made and its additions inserted.
    const Written& written(const std::string& name) {
        Written& w = written_[name];
        if (w.resolved) return w;
        const std::string at = "variants." + name;
        if (w.resolving) r_.fail(at + ".from", "variants built on each other in a circle");
        w.resolving = true;
        const json& vj = root_["variants"][name];
        r_.keys(vj, at, {"doc"}, {"timeline", "from", "set", "args", "floor", "families", "own_cpu", "change", "add"});
        w.doc = r_.str(vj["doc"], at + ".doc");
        if (vj.contains("from") == vj.contains("timeline")) r_.fail(at, "give exactly one of timeline (its own) and from (another variant's)");
        if (vj.contains("from")) {
            const std::string base = r_.str(vj["from"], at + ".from");
            if (!root_["variants"].contains(base)) r_.fail(at + ".from", "no variant named \"" + base + "\"");
            const Written& b = written(base);
            w.set = b.set;
            w.args = b.args;
            w.floor = b.floor;
            w.families = b.families;
            w.own_cpu = b.own_cpu;
            w.items = b.items;
        } else {
            if (!vj["timeline"].is_array() || vj["timeline"].empty()) r_.fail(at + ".timeline", "expected a list of steps and expectations");
            for (size_t i = 0; i < vj["timeline"].size(); ++i)
                w.items.push_back({vj["timeline"][i], at + ".timeline[" + std::to_string(i) + "]"});
            for (const char* key : {"change", "add"})
                if (vj.contains(key)) r_.fail(at + "." + key, std::string(key) + " is for a variant built from another one");
        }
        for (const char* key : {"set", "args"})
            if (vj.contains(key)) {
                if (!vj[key].is_object()) r_.fail(at + "." + key, "expected an object");
                (key == std::string("set") ? w.set : w.args).merge_patch(vj[key]);
            }
        if (vj.contains("floor")) w.floor = vj["floor"];
        if (vj.contains("families")) w.families = vj["families"];
        if (vj.contains("own_cpu")) w.own_cpu = vj["own_cpu"];
        if (vj.contains("change")) change(w, vj["change"], at + ".change");
        if (vj.contains("add")) add(w, vj["add"], at + ".add");
        w.resolving = false;
        w.resolved = true;
        return w;
    }

    // Each named item (a step or an expectation with "name") replaced in place: by an item, by a
    // list of items, or by nothing (null). A single replacement keeps the name, so that a variant
    // built on this one can change it again.
    void change(Written& w, const json& changes, const std::string& at) {
        if (!changes.is_object()) r_.fail(at, "expected an object of item name: step or expectation, a list of them, or null");
        for (const auto& [key, replacement] : changes.items()) {
            const std::string name = key;  // clang 14 lambdas cannot capture structured bindings
            auto it = std::find_if(w.items.begin(), w.items.end(), [&](const Item& i) { return i.j.value("name", "") == name; });
            if (it == w.items.end()) {
                std::string names;
                for (const auto& i : w.items)
                    if (i.j.contains("name")) names += (names.empty() ? "" : ", ") + i.j["name"].dump();
                r_.fail(at + "." + name, "no step or expectation named \"" + name + "\" to change (named ones: " + (names.empty() ? "none" : names) + ")");
            }
            const std::string where = at + "." + name;
            std::vector<Item> items;
            if (replacement.is_object()) {
                items.push_back({replacement, where});
                items.back().j["name"] = name;
            } else if (replacement.is_array()) {
                for (size_t i = 0; i < replacement.size(); ++i) items.push_back({replacement[i], where + "[" + std::to_string(i) + "]"});
            } else if (!replacement.is_null()) {
                r_.fail(where, "expected a step or an expectation, a list of them, or null to drop it");
            }
            it = w.items.erase(it);
            w.items.insert(it, items.begin(), items.end());
        }
    }

    void add(Written& w, const json& additions, const std::string& at) {
        if (!additions.is_object()) r_.fail(at, "expected an object of checkpoint name (or \"end\"): expectations");
        for (const auto& [key, list] : additions.items()) {
            const std::string checkpoint = key;  // clang 14 lambdas cannot capture structured bindings
            if (!list.is_array()) r_.fail(at + "." + checkpoint, "expected a list of expectations");
            auto pos = w.items.end();
            if (checkpoint != "end") {
                pos = std::find_if(w.items.begin(), w.items.end(), [&](const Item& i) {
                    return i.j.value("checkpoint", json()) == checkpoint;
                });
                if (pos == w.items.end()) r_.fail(at + "." + checkpoint, "no step makes checkpoint \"" + checkpoint + "\" (or use \"end\")");
                // After the expectations already written there: before the next step.
                pos = std::find_if(pos + 1, w.items.end(), [](const Item& i) { return !verb_of(i.j).empty(); });
            }
            std::vector<Item> items;
            for (size_t i = 0; i < list.size(); ++i) items.push_back({list[i], at + "." + checkpoint + "[" + std::to_string(i) + "]"});
            w.items.insert(pos, items.begin(), items.end());
        }
    }

    Variant read_variant(const std::string& name, const Written& w) {
        const std::string at = "variants." + name;
        Variant v;
        v.name = name;
        v.doc = w.doc;
        if (!w.families.is_null()) {  // the address families it can run in, when not all
            if (!w.families.is_array() || w.families.empty()) r_.fail(at + ".families", "expected a list of 4, 6, mapped");
            v.families.clear();
            for (const auto& f : w.families) {
                const auto family = parse_family(f.is_string() ? f.get<std::string>() : f.dump());
                if (!family) r_.fail(at + ".families", "unknown family " + f.dump() + " (use \"4\", \"6\", \"mapped\")");
                v.families.push_back(*family);
            }
        }
        if (!w.floor.is_null()) v.floor = r_.expr(w.floor, at + ".floor");
        if (!w.own_cpu.is_null()) v.own_cpu = r_.str(w.own_cpu, at + ".own_cpu");
        v.own_cpu_alone = !v.own_cpu.empty();
        for (const auto& [key, value] : w.set.items()) {
            if (!s_.param(key)) r_.fail(at + ".set." + key, "no parameter named \"" + key + "\"");
            v.set[key] = in(Context::parameter).expr(value, at + ".set." + key);  // resolved with the parameters
        }
        json args = root_.value("args", json::object());
        if (!args.is_object()) r_.fail("args", "expected an object of side: {flag: value}");
        args.merge_patch(w.args);  // a variant's flag replaces the shared one
        r_.keys(args, at + ".args", {}, {"client", "server"});
        for (const auto& [side, flags] : args.items()) {
            if (!flags.is_object()) r_.fail(at + ".args." + side, "expected an object of flag: value");
            for (const auto& [flag, value] : flags.items()) v.args[side].emplace_back(flag, r_.expr(value, at + ".args." + side + "." + flag));
        }

        // Steps first, for the checkpoints the expectations may name; then the expectations, each
        // at its place: the checkpoint before it and each program's phase.
        Place place;
        for (const auto& item : w.items) {
            if (!item.j.is_object()) r_.fail(item.where, "expected a step or an expectation (an object)");
            if (verb_of(item.j).empty()) continue;
            if (!kind_of(item.j).empty()) r_.fail(item.where, "a step and an expectation at once: write them as two items");
            v.steps.push_back(read_step(r_, item.j, item.where));
            if (const std::string c = checkpoint_of(v.steps.back()); !c.empty() && !place.checkpoints.insert(c).second)
                r_.fail(item.where, "checkpoint \"" + c + "\" is made twice");
        }
        place.checkpoints.insert("end");
        const Reader expectations = in(Context::expectation, place.checkpoints);
        size_t step = 0;
        std::map<std::string, int> seen;  // "<side> mark|step <name>" -> times waited for or released
        for (const auto& item : w.items) {
            if (verb_of(item.j).empty()) {
                if (item.j.contains("say") || item.j.contains("ask")) r_.fail(item.where, "say and ask belong to steps");
                v.expect.push_back(read_expectation(expectations, item.j, item.where, place));
                continue;
            }
            const Step& s = v.steps[step++];
            if (const std::string c = checkpoint_of(s); !c.empty()) place.checkpoint = c;
            // The phase each program is in here: after the Nth release of a step, its Nth time; while
            // it waits at a step, the time after the releases so far; after the Nth wait for a mark, its Nth.
            if (const auto* start = std::get_if<Start>(&s.action)) place.phase[start->side] = {"start", 1};
            if (const auto* wait = std::get_if<Wait>(&s.action); wait && wait->what == Wait::For::mark)
                place.phase[wait->side] = {wait->name, ++seen[wait->side + " mark " + wait->name]};
            if (const auto* wait = std::get_if<Wait>(&s.action); wait && wait->what == Wait::For::step)
                place.phase[wait->side] = {wait->name, seen[wait->side + " step " + wait->name] + 1};
            if (const auto* release = std::get_if<Release>(&s.action))
                place.phase[release->side] = {release->name, ++seen[release->side + " step " + release->name]};
        }
        // The scenario's shared expectations: after the timeline, about the final snapshot and every call.
        const Place end{"end", {}, place.checkpoints};
        const json shared = root_.value("expect", json::array());
        for (size_t i = 0; i < shared.size(); ++i)
            v.expect.push_back(read_expectation(expectations, shared[i], "expect[" + std::to_string(i) + "]", end));
        if (v.steps.empty()) r_.fail(at, "a variant without steps runs nothing");
        if (v.expect.empty()) r_.fail(at, "a variant without expectations asserts nothing");
        for (const auto& e : v.expect)  // an expectation that contention can change gives the variant a CPU of its own
            if (v.own_cpu.empty() && !e->contention.empty()) v.own_cpu = e->contention;
        return v;
    }
};

}  // namespace

Scenario parse_scenario(const std::string& text, const std::string& file, const ProgramNames* programs) {
    json root;
    try {
        root = json::parse(text);
    } catch (const json::parse_error& e) {
        throw ScenarioError(file + ":" + std::to_string(line_of(text, e.byte)) + ": not valid JSON (" + e.what() + ")");
    } catch (const json::exception& e) {  // a number too large for a double (found by fuzz_scenario)
        throw ScenarioError(file + ": not valid JSON (" + e.what() + ")");
    }
    Scenario s;
    Loader(root, file, programs, s).load();
    return s;
}

Scenario load_scenario(const std::string& dir, const std::string& names_file) {
    const std::string file = dir + "/scenario.json";
    std::ifstream in(file);
    if (!in) throw ScenarioError(file + ": cannot be read");
    std::stringstream text;
    text << in.rdbuf();
    ProgramNames programs;
    if (!names_file.empty()) programs = read_program_names(names_file);
    Scenario s = parse_scenario(text.str(), file, &programs);
    s.dir = dir;
    if (s.name != std::filesystem::path(dir).filename().string())
        throw ScenarioError(file + ": name: \"" + s.name + "\" differs from its folder's name");
    return s;
}

std::vector<std::string> scenario_names(const std::string& root) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(root, ec))
        if (entry.is_directory() && std::filesystem::exists(entry.path() / "scenario.json"))
            names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace socklab
