// The description loader, its expressions and its parameter resolution, including inputs that
// must be rejected with their place in the file.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "scenario/expr.hpp"
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
      "variants": {"only": {"doc": "d",
        "steps": [{"start": "server"}, {"await": "server listening", "within": "queue"}, {"checkpoint": "full"}],
        "expect": [{"socket": "server", "at": "full", "state": "LISTEN", "recv_q": "queue", "why": "w"}]}}
    })");
}

std::string error_of(const json& j) {
    try {
        parse_scenario(j.dump(2), "demo/scenario.json");
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
}

TEST_CASE("bad expressions are rejected with the expression in the message") {
    for (const char* bad : {"", "backlog +", "1 / 0", "nosuch + 1", "min(1,", "pow(2, 3)", "3 $ 4", "((1)", "1 2"}) {
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
    CHECK(s.variants[0].steps[1].verb == "await");
    CHECK(s.variants[0].steps[1].side == "server");
    CHECK(s.variants[0].steps[1].name == "listening");
    CHECK(s.sysctls["server"]["net.core.somaxconn"] == "4096");
    CHECK(s.variants[0].expect.at(0).kind == "socket");
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
        {[](json& j) { j["variants"]["only"]["steps"][0] = {{"begin", "server"}}; }, "variants.only.steps[0]: a step needs one of"},
        {[](json& j) { j["variants"]["only"]["steps"][0] = {{"start", "router"}}; }, "unknown side \"router\""},
        {[](json& j) { j["variants"]["only"]["steps"][1]["await"] = "server"; }, "write \"<side> <name>\""},
        {[](json& j) { j["variants"]["only"]["expect"][0]["state"] = "ESTABLISHD"; }, "expect[0].state: unknown TCP state \"ESTABLISHD\""},
        {[](json& j) { j["variants"]["only"]["expect"][0]["at"] = "nowhere"; }, "no step makes checkpoint \"nowhere\""},
        {[](json& j) { j["variants"]["only"]["expect"][0]["recv_q"] = true; }, "expected a number or an expression string"},
        {[](json& j) { j["variants"]["only"]["expect"][0].erase("why"); }, "missing key \"why\""},
        {[](json& j) { j["variants"]["only"]["expect"][0]["why"] = ""; }, "say which rule"},
        {[](json& j) { j["variants"]["only"]["expect"] = json::array(); }, "asserts nothing"},
        {[](json& j) { j["variants"]["only"]["expect"][0] = {{"packets", "client SX"}, {"count", 1}, {"why", "w"}}; }, "bad TCP flags \"SX\""},
        {[](json& j) { j["variants"]["only"]["expect"][0] = {{"call", "client connect"}, {"errno", "ENOPE"}, {"count", 1}, {"why", "w"}}; }, "unknown errno name \"ENOPE\""},
        {[](json& j) { j["variants"]["only"]["expect"][0] = {{"counter", "server TcpExt.X"}, {"why", "w"}}; }, "give exactly one of equals, at_least"},
        {[](json& j) { j["variants"]["only"]["expect"][0] = {{"exit", "client"}, {"signal", "SIGFOO"}, {"why", "w"}}; }, "unknown signal \"SIGFOO\""},
        {[](json& j) { j["variants"]["only"]["expect"][0] = {{"retransmits", "client S"}, {"rule", "guess"}, {"connections", 1}, {"why", "w"}}; }, "unknown rule \"guess\""},
        {[](json& j) { j["variants"]["only"]["set"] = {{"backlgo", 1}}; }, "no parameter named \"backlgo\""},
        {[](json& j) { j["variants"]["only"]["steps"].push_back({{"checkpoint", "full"}}); }, "checkpoint \"full\" is made twice"},
        {[](json& j) { j["variants"] = json::object(); }, "expected at least one variant"},
        {[](json& j) { j["let"]["backlog"] = 1; }, "already a parameter"},
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

TEST_CASE("every shipped scenario loads") {
    auto names = scenario_names(SOCKLAB_SCENARIOS_DIR);
    REQUIRE_FALSE(names.empty());
    for (const auto& name : names) {
        INFO(name);
        Scenario s = load_scenario(std::string(SOCKLAB_SCENARIOS_DIR) + "/" + name);
        CHECK(s.name == name);
        for (const auto& v : s.variants) CHECK_NOTHROW(resolve_params(s, v, {}));
    }
}

TEST_CASE("holds expectations and observed names; until may wait for a timer") {
    json j = minimal();
    j["variants"]["only"]["steps"].push_back(
        {{"until", {{"side", "client"}, {"state", "ESTABLISHED"}, {"count", 1}, {"timer", "probe"}}}, {"within", 5}});
    j["variants"]["only"]["expect"].push_back(
        {{"holds", "sockets.full.client.ESTABLISHED.send_q + sockets.end.server.LISTEN.recv_q == calls.full.client.send.total"},
         {"why", "w"}});
    j["variants"]["only"]["expect"].push_back(
        {{"call", "client send"}, {"ret", "calls.end.client.send.count"}, {"count", 1}, {"why", "w"}});
    Scenario s = parse_scenario(j.dump(), "demo/scenario.json");
    CHECK(s.variants[0].steps.back().until["timer"] == "probe");
    CHECK(s.variants[0].expect.at(1).kind == "holds");

    const std::set<std::string> checkpoints{"full", "end"};
    CHECK(is_observed_name("sockets.full.client.ESTABLISHED.recv_q", checkpoints));
    CHECK(is_observed_name("sockets.end.server.TIME_WAIT.count", checkpoints));
    CHECK(is_observed_name("calls.full.server.recv.total", checkpoints));
    CHECK(is_observed_name("calls.full.client.send.EAGAIN", checkpoints));
    CHECK_FALSE(is_observed_name("calls.full.client.send.eagain", checkpoints));
    CHECK_FALSE(is_observed_name("sockets.nowhere.client.ESTABLISHED.recv_q", checkpoints));
    CHECK_FALSE(is_observed_name("sockets.full.router.ESTABLISHED.recv_q", checkpoints));
    CHECK_FALSE(is_observed_name("sockets.full.client.ESTABLISHD.recv_q", checkpoints));
    CHECK_FALSE(is_observed_name("sockets.full.client.ESTABLISHED.rcv_q", checkpoints));
    CHECK_FALSE(is_observed_name("calls.full.client.send.sum", checkpoints));
    CHECK_FALSE(is_observed_name("calls.full.client.send", checkpoints));

    struct Case {
        std::function<void(json&)> bend;
        std::string message;
    };
    std::vector<Case> cases{
        {[](json& x) { x["variants"]["only"]["expect"][0] = {{"holds", "sockets.nowhere.client.ESTABLISHED.send_q > 0"}, {"why", "w"}}; },
         "unknown name 'sockets.nowhere.client.ESTABLISHED.send_q'"},
        {[](json& x) { x["variants"]["only"]["expect"][0] = {{"holds", "1 >"}, {"why", "w"}}; }, "expect[0].holds"},
        {[](json& x) { x["variants"]["only"]["expect"][0] = {{"holds", "1"}, {"why", "w"}, {"count", 1}}; }, "unknown key \"count\""},
        // Observed values exist only once the run is over: not in parameters, lets or arguments.
        {[](json& x) { x["let"]["sent"] = "calls.end.client.send.total"; }, "unknown name 'calls.end.client.send.total'"},
        {[](json& x) {
             x["variants"]["only"]["steps"].push_back({{"until", {{"side", "client"}, {"state", "ESTABLISHED"}, {"count", 1}, {"timer", "persist"}}}, {"within", 5}});
         },
         "use none, on, retransmit, keepalive, timewait or probe"},
    };
    for (const auto& c : cases) {
        json x = minimal();
        c.bend(x);
        INFO(c.message);
        CHECK_THAT(error_of(x), Catch::StartsWith("demo/scenario.json: ") && Catch::Contains(c.message));
    }
}
