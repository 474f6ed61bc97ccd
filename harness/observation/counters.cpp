#include "observation/counters.hpp"

#include "topology/netns.hpp"

#include <charconv>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace socklab {

namespace {

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        const size_t end = text.find('\n');
        lines.push_back(text.substr(0, end));
        if (end == std::string_view::npos) break;
        text.remove_prefix(end + 1);
    }
    return lines;
}

std::vector<std::string_view> split_words(std::string_view text) {
    std::vector<std::string_view> words;
    size_t pos = 0;
    while (pos < text.size()) {
        const size_t start = text.find_first_not_of(" \t\r", pos);
        if (start == std::string_view::npos) break;
        size_t end = text.find_first_of(" \t\r", start);
        if (end == std::string_view::npos) end = text.size();
        words.push_back(text.substr(start, end - start));
        pos = end;
    }
    return words;
}

// A line "Prefix: a b c" as its prefix and its words; the prefix is empty when there is none.
struct Row {
    std::string_view prefix;
    std::vector<std::string_view> words;
};

Row split_row(std::string_view line) {
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return {};
    return {line.substr(0, colon), split_words(line.substr(colon + 1))};
}

std::optional<int64_t> to_int64(std::string_view word) {
    int64_t value = 0;
    const char* last = word.data() + word.size();
    auto [end, ec] = std::from_chars(word.data(), last, value);
    if (ec != std::errc() || end != last) return std::nullopt;
    return value;
}

// Adds "Prefix.name" = value for one header/value pair of lines. Returns false when the two lines
// are not such a pair, so the caller can resynchronise one line further on.
bool add_pair(const Row& names, const Row& values, Counters& out) {
    if (names.prefix.empty() || names.prefix != values.prefix) return false;
    // Names and values are matched by position, so a pair whose lengths differ cannot be trusted.
    if (names.words.size() != values.words.size()) return true;
    for (size_t i = 0; i < names.words.size(); ++i) {
        auto value = to_int64(values.words[i]);
        if (!value) continue;  // not a number (or too large): skip just this counter
        out[std::string(names.prefix) + "." + std::string(names.words[i])] = *value;
    }
    return true;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path + ".");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

Counters parse_counters(const std::string& text) {
    Counters counters;
    const auto lines = split_lines(text);
    size_t i = 0;
    while (i + 1 < lines.size()) {
        if (add_pair(split_row(lines[i]), split_row(lines[i + 1]), counters))
            i += 2;
        else
            i += 1;
    }
    return counters;
}

Counters parse_snmp6(const std::string& text) {
    Counters counters;
    for (const auto line : split_lines(text)) {
        const auto words = split_words(line);
        if (words.size() != 2) continue;
        const std::string name(words[0]);
        const size_t six = name.find('6');  // "Icmp6InDestUnreachs": the protocol ends at its 6
        const auto value = to_int64(words[1]);
        if (six == std::string::npos || six + 1 == name.size() || !value) continue;
        counters[name.substr(0, six + 1) + "." + name.substr(six + 1)] = *value;
    }
    return counters;
}

Counters read_counters(const std::string& netns) {
    NetnsEnter inside(netns);
    // /proc/self/net follows the namespace of the thread group leader; thread-self follows ours.
    std::string text = read_file("/proc/thread-self/net/netstat");
    text += '\n';
    text += read_file("/proc/thread-self/net/snmp");
    Counters counters = parse_counters(text);
    if (std::ifstream six("/proc/thread-self/net/snmp6"); six) {  // absent without IPv6
        std::ostringstream rows;
        rows << six.rdbuf();
        counters.merge(parse_snmp6(rows.str()));
    }
    return counters;
}

}  // namespace socklab
