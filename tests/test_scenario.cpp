// The description loader, its expressions and its parameter resolution, including inputs that
// must be rejected with their place in the file.
#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <sstream>

#include "expectations/expr.hpp"
#include "scenario/names.hpp"
#include "scenario/scenario.hpp"

using namespace socklab;
using nlohmann::json;

namespace {

double eval(const std::string& text) {
    return evaluate(text, [](const std::string& name) -> std::optional<double> {
        if (name == "backlog") return 5;
        if (name == "server.net.core.somaxconn") return 3;
        return std::nullopt;
    });
}

// A small valid description that each test bends in one place.
json minimal() {
    return json::parse(R"({
      "name": "demo", "title": "t", "blog": "3.3",
      "params": {"backlog": {"default": 5, "min": 1, "max": 64, "help": "listen backlog"},
                 "connections": {"default": "backlog + 2", "min": 1, "max": 128, "help": "count"}},
      "let": {"queue": "min(backlog, server.net.core.somaxconn) + 1"},
      "sysctls": {"server": {"net.core.somaxconn": 4096}},
      "variants": {"only": {"doc": "d", "timeline": [
        {"start": "server"}, {"wait": "server listening", "within": "queue"}, {"checkpoint": "full"},
        {"socket": "server LISTEN", "recv_q": "queue", "why": "w"}]}}
    })");
}

std::string error_of(const json& j, const ProgramNames* programs = nullptr) {
    try {
        parse_scenario(j.dump(2), "demo/scenario.json", programs);
    } catch (const ScenarioError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("expressions evaluate arithmetic over names") {
    CHECK(eval("backlog + 1") == 6);
    CHECK(eval("min(backlog, server.net.core.somaxconn) + 1") == 4);
    CHECK(eval("max(1, 2, 7) * -2") == -14);
    CHECK(eval("(1 + 2) * 3 - 8 / 4") == 7);
    CHECK(eval(" 2.5 ") == 2.5);
    CHECK(eval("floor(backlog / 4)") == 1);   // the kernel's backlog >> 2
    CHECK(eval("floor(-7 / 2)") == -4);
    CHECK(eval("(backlog == 5) * 3 + (backlog != 5) * 7") == 3);  // a comparison in parentheses: 1 or 0
    CHECK(eval("2 * (backlog < 1)") == 0);
}

TEST_CASE("bad expressions are rejected with the expression in the message") {
    for (const char* bad : {"", "backlog +", "1 / 0", "nosuch + 1", "min(1,", "pow(2, 3)", "floor(1, 2)", "floor()", "3 $ 4", "((1)", "1 2"}) {
        INFO(bad);
        CHECK_THROWS_AS(eval(bad), ExprError);
    }
    CHECK_THROWS_WITH(eval("nosuch + 1"), Catch::Contains("unknown name 'nosuch'") && Catch::Contains("nosuch + 1"));
    CHECK_THROWS_WITH(eval(std::string(200, '(') + "1" + std::string(200, ')')), Catch::Contains("nested too deeply"));
}

TEST_CASE("a valid description loads") {
    Scenario s = parse_scenario(minimal().dump(), "demo/scenario.json");
    CHECK(s.name == "demo");
    REQUIRE(s.variants.size() == 1);
    CHECK(s.variants[0].steps.size() == 3);
    const auto& wait = std::get<Wait>(s.variants[0].steps[1].action);
    CHECK(wait.what == Wait::For::mark);
    CHECK(wait.side == "server");
    CHECK(wait.name == "listening");
    CHECK(describe(s.variants[0].steps[1]) == "wait for server listening");
    CHECK(s.sysctls["server"]["net.core.somaxconn"] == "4096");
    CHECK(s.variants[0].expect.at(0)->kind == "socket");
    CHECK(s.variants[0].expect.at(0)->describe() == "server LISTEN at full recv_q=queue");
}

TEST_CASE("JSON syntax errors name the line") {
    std::string text = minimal().dump(2);
    const size_t at = text.find("\"title\"");
    REQUIRE(at != std::string::npos);
    text.insert(at, ",");  // a stray comma before "title"
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<long>(at), '\n');
    CHECK_THROWS_WITH(parse_scenario(text, "demo/scenario.json"),
                      Catch::StartsWith("demo/scenario.json:" + std::to_string(line) + ": not valid JSON"));
}

TEST_CASE("a number too large for a double is a ScenarioError and no crash") {
    std::string text = minimal().dump(2);
    const size_t at = text.find("\"title\"");
    REQUIRE(at != std::string::npos);
    text.insert(at, "\"huge\": 6E66667, ");
    CHECK_THROWS_WITH(parse_scenario(text, "demo/scenario.json"),
                      Catch::StartsWith("demo/scenario.json: not valid JSON") && Catch::Contains("number overflow"));
}

TEST_CASE("mistakes in a description are named with their place") {
    struct Case {
        std::function<void(json&)> bend;
        std::string message;
    };
    std::vector<Case> cases{
        {[](json& j) { j["colour"] = 1; }, "top level: unknown key \"colour\""},
        {[](json& j) { j.erase("title"); }, "top level: missing key \"title\""},
        {[](json& j) { j["params"]["backlog"]["min"] = "one"; }, "params.backlog: min and max must be numbers"},
        {[](json& j) { j["params"]["backlog"]["min"] = 70; }, "params.backlog: min is above max"},
        {[](json& j) { j["params"]["connections"]["default"] = "backlgo + 2"; }, "unknown name 'backlgo'"},
        {[](json& j) { j["sysctls"]["server"]["kernel.panic"] = 1; }, "only net.* sysctls are per namespace"},
        {[](json& j) { j["sysctls"]["router"] = json::object(); }, "sysctls: unknown key \"router\""},
        {[](json& j) { j["variants"]["only"]["timeline"][0] = {{"begin", "server"}}; }, "variants.only.timeline[0]: an expectation needs one of"},
        {[](json& j) { j["variants"]["only"]["timeline"][0] = {{"start", "router"}}; }, "unknown side \"router\""},
        {[](json& j) { j["variants"]["only"]["timeline"][1]["wait"] = "server"; }, "write \"<side> <mark>\", \"<side> before <step>\" or \"<side> exit\""},
        {[](json& j) { j["variants"]["only"]["timeline"][3]["socket"] = "server ESTABLISHD"; }, "timeline[3].socket: unknown TCP state \"ESTABLISHD\""},
        {[](json& j) { j["variants"]["only"]["timeline"].erase(2); }, "timeline[2]: no checkpoint before it"},
        {[](json& j) { j["variants"]["only"]["timeline"][3]["recv_q"] = true; }, "expected a number or an expression string"},
        {[](json& j) { j["variants"]["only"]["timeline"][3].erase("why"); }, "timeline[3].why: say which rule"},
        {[](json& j) { j["variants"]["only"]["timeline"][3]["why"] = ""; }, "say which rule"},
        {[](json& j) { j["variants"]["only"]["timeline"].erase(3); }, "asserts nothing"},
        {[](json& j) { j["variants"]["only"]["timeline"][3]["ask"] = "?"; }, "say and ask belong to steps"},
        {[](json& j) { j["variants"]["only"]["timeline"][2]["socket"] = "server LISTEN"; }, "a step and an expectation at once"},
        {[](json& j) { j["variants"]["only"]["timeline"][3] = {{"packets", "client SX"}, {"count", 1}, {"why", "w"}}; }, "bad TCP flags \"SX\""},
        {[](json& j) { j["variants"]["only"]["timeline"][3] = {{"call", "client connect"}, {"errno", "ENOPE"}, {"count", 1}, {"why", "w"}}; }, "unknown errno name \"ENOPE\""},
        {[](json& j) { j["variants"]["only"]["timeline"][3] = {{"call", "client connect"}, {"nth", 2}, {"why", "w"}}; }, "unknown key \"nth\""},
        {[](json& j) { j["variants"]["only"]["timeline"][3] = {{"counter", "server TcpExt.X"}, {"why", "w"}}; }, "give exactly one of equals, at_least"},
        {[](json& j) { j["variants"]["only"]["timeline"][3] = {{"exit", "client"}, {"signal", "SIGFOO"}, {"why", "w"}}; }, "unknown signal \"SIGFOO\""},
        {[](json& j) { j["variants"]["only"]["timeline"][3] = {{"retransmits", "client S"}, {"rule", "guess"}, {"connections", 1}, {"why", "w"}}; }, "unknown rule \"guess\""},
        {[](json& j) { j["variants"]["only"]["timeline"][3] = {{"transitions", "client SYN_SENT CLOSE ESTABLISHED"}, {"count", 1}, {"why", "w"}}; }, "separated by \" > \""},
        {[](json& j) { j["variants"]["only"]["timeline"][3] = {{"interval", "checkpoint full"}, {"timer", 1}, {"why", "w"}}; }, "write \"<moment> > <moment>\""},
        {[](json& j) { j["variants"]["only"]["timeline"][3] = {{"interval", "checkpoint full > checkpoint nowhere"}, {"timer", 1}, {"why", "w"}}; }, "no step makes checkpoint \"nowhere\""},
        {[](json& j) { j["variants"]["only"]["set"] = {{"backlgo", 1}}; }, "no parameter named \"backlgo\""},
        {[](json& j) { j["variants"]["only"]["set"] = {{"backlog", "queue"}}; }, "variants.only.set.backlog: in expression \"queue\": unknown name"},
        {[](json& j) { j["variants"]["only"]["timeline"].push_back({{"checkpoint", "full"}}); }, "checkpoint \"full\" is made twice"},
        {[](json& j) { j["variants"]["only"]["steps"] = json::array(); }, "unknown key \"steps\""},
        {[](json& j) { j["variants"]["only"]["from"] = "only"; }, "give exactly one of timeline"},
        {[](json& j) { j["variants"]["only"]["change"] = json::object(); }, "change is for a variant built from another one"},
        {[](json& j) { j["variants"]["copy"] = {{"doc", "d"}, {"from", "nosuch"}}; }, "variants.copy.from: no variant named \"nosuch\""},
        {[](json& j) { j["variants"]["a"] = {{"doc", "d"}, {"from", "b"}}; j["variants"]["b"] = {{"doc", "d"}, {"from", "a"}}; }, "in a circle"},
        {[](json& j) { j["variants"]["copy"] = {{"doc", "d"}, {"from", "only"}, {"change", {{"nosuch", nullptr}}}}; }, "no step or expectation named \"nosuch\""},
        {[](json& j) { j["variants"]["copy"] = {{"doc", "d"}, {"from", "only"}, {"add", {{"nowhere", json::array()}}}}; }, "no step makes checkpoint \"nowhere\""},
        {[](json& j) { j["params"]["backlog"]["default"] = "server.net.core.somaxconn"; }, "params.backlog.default: in expression \"server.net.core.somaxconn\": unknown name"},
        {[](json& j) { j["sysctls"]["server"]["net.core.somaxconn"] = "queue"; }, "sysctls.server.net.core.somaxconn: in expression \"queue\": unknown name 'queue'"},
        {[](json& j) { j["variants"] = json::object(); }, "expected at least one variant"},
        {[](json& j) { j["let"]["backlog"] = 1; }, "already a parameter"},
        {[](json& j) { j["variants"]["only"]["timeline"].push_back({{"ip", "client"}, {"args", "neigh replace {server.addr} dev {clinet.if} nud incomplete"}}); },
         "timeline[4].args: unknown name {clinet.if} (known: {port}, {client.addr}"},
    };
    for (const auto& c : cases) {
        json j = minimal();
        c.bend(j);
        INFO(c.message);
        std::string error = error_of(j);
        CHECK_THAT(error, Catch::StartsWith("demo/scenario.json: ") && Catch::Contains(c.message));
    }
}

TEST_CASE("parameters: defaults follow other parameters, --set is range-checked") {
    Scenario s = parse_scenario(minimal().dump(), "demo/scenario.json");
    const Variant& v = s.variants[0];
    auto values = resolve_params(s, v, {});
    CHECK(values["backlog"] == 5);
    CHECK(values["connections"] == 7);
    values = resolve_params(s, v, {{"backlog", "3"}});
    CHECK(values["connections"] == 5);  // the default "backlog + 2" follows the --set
    CHECK_THROWS_WITH(resolve_params(s, v, {{"backlog", "0"}}),
                      Catch::Contains("backlog=0 is out of range") && Catch::Contains("from 1 to 64"));
    CHECK_THROWS_WITH(resolve_params(s, v, {{"backlog", "2.5"}}), Catch::Contains("out of range"));
    CHECK_THROWS_WITH(resolve_params(s, v, {{"backlog", "five"}}), Catch::Contains("not a number"));
    CHECK_THROWS_WITH(resolve_params(s, v, {{"backlog", "connections"}}), Catch::Contains("not a number"));
    CHECK_THROWS_WITH(resolve_params(s, v, {{"bakclog", "3"}}),
                      Catch::Contains("no parameter \"bakclog\"") && Catch::Contains("backlog, connections"));
}

TEST_CASE("every shipped scenario loads, its names checked against its programs") {
    auto names = scenario_names(SOCKLAB_SCENARIOS_DIR);
    REQUIRE_FALSE(names.empty());
    for (const auto& name : names) {
        INFO(name);
        Scenario s = load_scenario(std::string(SOCKLAB_SCENARIOS_DIR) + "/" + name,
                                   std::string(SOCKLAB_PROGRAMS_DIR) + "/" + name + "/names.json");
        CHECK(s.name == name);
        for (const auto& v : s.variants) CHECK_NOTHROW(resolve_params(s, v, {}));
    }
}

TEST_CASE("step, mark, call and role names are checked against the programs") {
    ProgramNames programs;
    programs.known = true;
    programs.names["server"] = {{"steps", {"close"}}, {"marks", {"listening"}}, {"phases", {"close", "listening"}},
                                {"roles", {"child"}}, {"calls", {"listen", "accept"}}};
    programs.names["client"] = {{"steps", {"send"}}, {"phases", {"send"}}, {"calls", {"connect"}}};
    json j = minimal();
    CHECK(error_of(j, &programs).empty());
    j["variants"]["only"]["timeline"][1]["wait"] = "server listenning";
    CHECK_THAT(error_of(j, &programs), Catch::Contains("variants.only.timeline[1].wait: the server program has no mark "
                                                       "\"listenning\" (its marks: listening)"));
    j = minimal();
    j["variants"]["only"]["timeline"].push_back({{"release", "server finish"}});
    CHECK_THAT(error_of(j, &programs), Catch::Contains("timeline[4].release: the server program has no step \"finish\" (its steps: close)"));
    j = minimal();
    j["variants"]["only"]["timeline"].push_back({{"wait", "client before close"}});
    CHECK_THAT(error_of(j, &programs), Catch::Contains("the client program has no step \"close\" (its steps: send)"));
    for (const auto& [key, value, message] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"call", "server acept", "the server program has no call \"acept\" (its calls: accept, listen)"},
             {"role", "kid", "the server program has no role \"kid\" (its roles: child)"},
             {"after", "listen", "the server program has no phase \"listen\" (its phases: close, listening, start)"}}) {
        j = minimal();
        json e = {{"call", "server accept"}, {"ret", 0}, {"why", "w"}};
        e[key] = value;
        j["variants"]["only"]["timeline"].push_back(e);
        INFO(key);
        CHECK_THAT(error_of(j, &programs), Catch::Contains(message));
    }
}

TEST_CASE("errno names: every name the C library knows") {
    json j = minimal();
    for (const char* name : {"EACCES", "EADDRNOTAVAIL", "EHOSTUNREACH", "ECONNREFUSED", "0"}) {
        j["variants"]["only"]["timeline"][3] = {{"call", "client connect"}, {"errno", name}, {"why", "w"}};
        INFO(name);
        CHECK(error_of(j).empty());
    }
}

TEST_CASE("a variant built on another: inherited timeline, changes and additions in place") {
    json j = minimal();
    auto& timeline = j["variants"]["only"]["timeline"];
    timeline.push_back({{"release", "server close"}});
    timeline.push_back({{"call", "server accept"}, {"ret", 0}, {"name", "accepted"}, {"why", "w"}});
    timeline.push_back({{"exit", "server"}, {"status", 0}, {"name", "clean"}, {"why", "w"}});
    j["variants"]["refused"] = {{"doc", "d"}, {"from", "only"}, {"set", {{"backlog", 3}}},
                                {"change", {{"accepted", {{"call", "server accept"}, {"errno", "EAGAIN"}, {"why", "w2"}}},
                                            {"clean", nullptr}}},
                                {"add", {{"full", json::array({{{"socket", "server ESTABLISHED"}, {"count", 0}, {"why", "w"}}})},
                                         {"end", json::array({{{"exit", "client"}, {"status", 1}, {"why", "w"}}})}}}};
    j["variants"]["again"] = {{"doc", "d"}, {"from", "refused"}, {"change", {{"accepted", nullptr}}}};
    Scenario s = parse_scenario(j.dump(), "demo/scenario.json");
    const Variant& only = *s.variant("only");
    const Variant& refused = *s.variant("refused");
    REQUIRE(only.expect.size() == 3);
    REQUIRE(refused.expect.size() == 4);
    CHECK(refused.set.at("backlog") == "3");
    CHECK(refused.steps.size() == only.steps.size());
    std::vector<std::string> texts;
    for (const auto& e : refused.expect) texts.push_back(e->describe());
    CHECK(texts == std::vector<std::string>{"server LISTEN at full recv_q=queue", "server ESTABLISHED at full count=0",
                                            "server accept() EAGAIN after close", "client exits 1"});
    CHECK(refused.expect[2]->where == "variants.refused.change.accepted");
    CHECK(refused.expect[2]->why == "w2");
    // A change is kept under its name, so a variant built on that one can change it again.
    CHECK(s.variant("again")->expect.size() == 3);
}

TEST_CASE("a variant built on another may change a named step into several") {
    json j = minimal();
    j["variants"]["only"]["timeline"][1]["name"] = "ready";
    j["variants"]["two"] = {{"doc", "d"}, {"from", "only"},
                            {"change", {{"ready", json::array({{{"wait", "server listening"}}, {{"wait", "server before close"}}})}}}};
    Scenario s = parse_scenario(j.dump(), "demo/scenario.json");
    const Variant& two = *s.variant("two");
    REQUIRE(two.steps.size() == 4);
    CHECK(describe(two.steps[2]) == "wait for server before close");
    CHECK(two.steps[2].where == "variants.two.change.ready[1]");
}

TEST_CASE("a call expectation is about the phase where it sits") {
    json j = minimal();
    auto& timeline = j["variants"]["only"]["timeline"];
    timeline.push_back({{"call", "server listen"}, {"ret", 0}, {"why", "w"}});
    timeline.push_back({{"call", "server listen"}, {"after", "start"}, {"ret", 0}, {"why", "w"}});
    j["expect"] = json::array({{{"call", "server listen"}, {"ret", 0}, {"why", "w"}}});
    Scenario s = parse_scenario(j.dump(), "demo/scenario.json");
    const auto& e = s.variants[0].expect;
    REQUIRE(e.size() == 4);
    CHECK(e[1]->describe() == "server listen() = 0 after listening");
    CHECK(e[2]->describe() == "server listen() = 0 after start");
    CHECK(e[3]->describe() == "server listen() = 0");  // the shared list: every call
    CHECK(e[3]->where == "expect[0]");

    // Checked against a program that listened before its mark, and once after it.
    Observations seen;
    seen.events = {{"server", 1, {{"call", "listen"}, {"ret", 0}, {"errno", ""}}},
                   {"server", 2, {{"mark", "listening"}}},
                   {"server", 3, {{"call", "listen"}, {"ret", -1}, {"errno", "EINVAL"}}}};
    Checkpoint full;
    full.name = "full";
    full.time_ns = 3;
    full.sockets = {{"server", {}}, {"client", {}}};
    seen.checkpoints.push_back(full);
    auto outcomes = check(e, seen, [](const std::string&) -> std::optional<double> { return 1; }, Timing{});
    CHECK_FALSE(outcomes[1].passed);  // after listening: -1 EINVAL
    CHECK_THAT(outcomes[1].observed, Catch::Contains("0 of 1 matched") && Catch::Contains("-1 EINVAL"));
    CHECK(outcomes[2].passed);        // after start: 0
    CHECK_FALSE(outcomes[3].passed);  // every call: one of two failed
}

TEST_CASE("holds expectations and observed names, and until may wait for a timer") {
    json j = minimal();
    j["variants"]["only"]["timeline"].push_back({{"until", "client ESTABLISHED"}, {"count", 1}, {"timer", "probe"}, {"within", 5}});
    j["variants"]["only"]["timeline"].push_back(
        {{"holds", "sockets.full.client.ESTABLISHED.send_q + sockets.end.server.LISTEN.recv_q == calls.full.client.send.total"},
         {"why", "w"}});
    j["variants"]["only"]["timeline"].push_back(
        {{"call", "client send"}, {"ret", "calls.end.client.send.count"}, {"count", 1}, {"why", "w"}});
    Scenario s = parse_scenario(j.dump(), "demo/scenario.json");
    CHECK(std::get<Until>(s.variants[0].steps.back().action).timer == "probe");
    {  // until may also wait for a counter of the side's namespace to reach a value
        json c = minimal();
        c["variants"]["only"]["timeline"].push_back({{"until", "client TcpExt.TCPWinProbe"}, {"at_least", 3}, {"within", 5}});
        const Until u = std::get<Until>(parse_scenario(c.dump(), "demo/scenario.json").variants[0].steps.back().action);
        CHECK(u.counter == "TcpExt.TCPWinProbe");
        CHECK(u.count == "3");
        CHECK(u.state.empty());
        c["variants"]["only"]["timeline"].back()["count"] = 1;
        CHECK_THAT(error_of(c), Catch::Contains("unknown key \"count\""));
    }
    CHECK(s.variants[0].expect.at(1)->kind == "holds");

    const Names names(s);
    const std::set<std::string> checkpoints{"full"};
    auto observed = [&](const std::string& name) { return names.known(name, Context::expectation, checkpoints); };
    CHECK(observed("sockets.full.client.ESTABLISHED.recv_q"));
    CHECK(observed("sockets.end.server.TIME_WAIT.count"));
    CHECK(observed("calls.full.server.recv.total"));
    CHECK(observed("calls.full.client.send.EAGAIN"));
    CHECK_FALSE(observed("calls.full.client.send.eagain"));
    CHECK_FALSE(observed("sockets.nowhere.client.ESTABLISHED.recv_q"));
    CHECK_FALSE(observed("sockets.full.router.ESTABLISHED.recv_q"));
    CHECK_FALSE(observed("sockets.full.client.ESTABLISHD.recv_q"));
    CHECK_FALSE(observed("sockets.full.client.ESTABLISHED.rcv_q"));
    CHECK_FALSE(observed("calls.full.client.send.sum"));
    CHECK_FALSE(observed("calls.full.client.send"));
    CHECK(observed("sockets.full.client.TIME_WAIT.expires"));
    // Observed names only in expectations; sysctls and rules not in parameter defaults.
    CHECK_FALSE(names.known("sockets.full.client.ESTABLISHED.recv_q", Context::variant, checkpoints));
    CHECK(names.known("syn_sent.timeout", Context::variant));
    CHECK_FALSE(names.known("syn_sent.timeout", Context::parameter));
    CHECK(names.known("backlog", Context::sysctl));
    CHECK_FALSE(names.known("queue", Context::sysctl));

    struct Case {
        std::function<void(json&)> bend;
        std::string message;
    };
    std::vector<Case> cases{
        {[](json& x) { x["variants"]["only"]["timeline"][3] = {{"holds", "sockets.nowhere.client.ESTABLISHED.send_q > 0"}, {"why", "w"}}; },
         "unknown name 'sockets.nowhere.client.ESTABLISHED.send_q'"},
        {[](json& x) { x["variants"]["only"]["timeline"][3] = {{"holds", "1 >"}, {"why", "w"}}; }, "timeline[3].holds"},
        {[](json& x) { x["variants"]["only"]["timeline"][3] = {{"holds", "1"}, {"why", "w"}, {"count", 1}}; }, "unknown key \"count\""},
        // Observed values exist only once the run is over: not in parameters, lets or arguments.
        {[](json& x) { x["let"]["sent"] = "calls.end.client.send.total"; }, "unknown name 'calls.end.client.send.total'"},
        {[](json& x) {
             x["variants"]["only"]["timeline"].push_back({{"until", "client ESTABLISHED"}, {"count", 1}, {"timer", "persist"}, {"within", 5}});
         },
         "unknown timer \"persist\""},
    };
    for (const auto& c : cases) {
        json x = minimal();
        c.bend(x);
        INFO(c.message);
        CHECK_THAT(error_of(x), Catch::StartsWith("demo/scenario.json: ") && Catch::Contains(c.message));
    }
}

TEST_CASE("the address family: --family names, and ipv6 and mapped in expressions") {
    CHECK(parse_family("4") == Family::ipv4);
    CHECK(parse_family("6") == Family::ipv6);
    CHECK(parse_family("mapped") == Family::mapped);
    CHECK_FALSE(parse_family("5"));
    for (Family f : {Family::ipv4, Family::ipv6, Family::mapped}) CHECK(parse_family(family_name(f)) == f);
    json j = minimal();
    j["variants"]["only"]["timeline"][3]["when"] = "ipv6 || mapped";
    CHECK_THAT(error_of(j), Catch::Contains("when"));  // no || in expressions: a comparison at most
    j["variants"]["only"]["timeline"][3]["when"] = "ipv6 + mapped == 0";
    Scenario s = parse_scenario(j.dump(), "demo/scenario.json");
    Names names(s);
    CHECK_FALSE(names.known("ipv6", Context::parameter));
    for (auto [family, ipv6, mapped] : std::vector<std::tuple<Family, double, double>>{
             {Family::ipv4, 0, 0}, {Family::ipv6, 1, 0}, {Family::mapped, 0, 1}}) {
        names.family = family;
        CHECK(names.value("ipv6") == ipv6);
        CHECK(names.value("mapped") == mapped);
    }
}

TEST_CASE("a variant may run in some address families only, and its copies inherit that") {
    json j = minimal();
    j["variants"]["only"]["families"] = {"4", "6"};
    j["variants"]["copy"] = {{"doc", "d"}, {"from", "only"}};
    Scenario s = parse_scenario(j.dump(), "demo/scenario.json");
    CHECK(s.variant("only")->families == std::vector<Family>{Family::ipv4, Family::ipv6});
    CHECK(s.variant("copy")->families == std::vector<Family>{Family::ipv4, Family::ipv6});
    j["variants"]["only"]["families"] = {"5"};
    CHECK_THAT(error_of(j), Catch::Contains(".families: unknown family \"5\""));
    j.erase("variants");
    j["variants"]["only"] = minimal()["variants"]["only"];
    CHECK(parse_scenario(j.dump(), "demo/scenario.json").variants[0].families.size() == 3);
}

TEST_CASE("a kill step sends a program the signal named as kill -l names it") {
    json j = minimal();
    j["variants"]["only"]["timeline"].push_back({{"kill", "server"}, {"signal", "KILL"}});
    j["variants"]["only"]["timeline"].push_back({{"kill", "client"}, {"signal", "TERM"}, {"say", "s"}});
    Scenario s = parse_scenario(j.dump(), "demo/scenario.json");
    const auto& steps = s.variants[0].steps;
    CHECK(std::get<Kill>(steps.at(steps.size() - 2).action).side == "server");
    CHECK(std::get<Kill>(steps.at(steps.size() - 2).action).signal == SIGKILL);
    CHECK(std::get<Kill>(steps.back().action).signal == SIGTERM);
    CHECK(describe(steps.at(steps.size() - 2)) == "send SIGKILL to the server");

    for (const auto& [step, message] : std::vector<std::pair<json, std::string>>{
             {{{"kill", "server"}, {"signal", "SIGKILL"}}, "unknown signal \"SIGKILL\""},
             {{{"kill", "server"}, {"signal", "NOPE"}}, "unknown signal \"NOPE\""},
             {{{"kill", "server"}}, "signal"},
             {{{"kill", "router"}, {"signal", "KILL"}}, "router"},
             {{{"kill", "server"}, {"signal", "KILL"}, {"within", 1}}, "unknown key \"within\""}}) {
        json x = minimal();
        x["variants"]["only"]["timeline"].push_back(step);
        INFO(message);
        CHECK_THAT(error_of(x), Catch::StartsWith("demo/scenario.json: ") && Catch::Contains(message));
    }
}
