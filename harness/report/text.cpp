#include "report/text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace socklab {

using nlohmann::json;

namespace {

bool is_continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Length of the UTF-8 sequence starting at text[i], or 0 when it is not a valid one.
size_t utf8_length(std::string_view text, size_t i) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const size_t n = lead < 0x80             ? 1
                     : (lead & 0xE0) == 0xC0 ? 2
                     : (lead & 0xF0) == 0xE0 ? 3
                     : (lead & 0xF8) == 0xF0 ? 4
                                             : 0;
    if (n == 0 || i + n > text.size()) return 0;
    for (size_t k = 1; k < n; ++k)
        if (!is_continuation_byte(text[i + k])) return 0;
    return n;
}

const json& empty_array() {
    static const json empty = json::array();
    return empty;
}

const json& empty_object() {
    static const json empty = json::object();
    return empty;
}

}  // namespace

size_t columns(std::string_view text) {
    const auto starts = std::count_if(text.begin(), text.end(), [](char c) { return !is_continuation_byte(c); });
    return static_cast<size_t>(starts);
}

std::string first_columns(std::string_view text, size_t n) {
    size_t end = 0;
    for (size_t seen = 0; end < text.size(); ++end) {
        if (!is_continuation_byte(text[end]) && seen++ == n) break;
    }
    return std::string(text.substr(0, end));
}

std::string printable(std::string_view text) {
    std::string out;
    for (size_t i = 0; i < text.size();) {
        const size_t n = utf8_length(text, i);
        const auto c = static_cast<unsigned char>(text[i]);
        if (n == 0) out += '?';
        else if (c < 0x20 || c == 0x7f) out += ' ';
        else out += text.substr(i, n);
        i += n == 0 ? 1 : n;
    }
    return out;
}

std::string fit(std::string_view text, size_t width) {
    std::string clean = printable(text);
    if (columns(clean) <= width) return clean;
    return width == 0 ? "" : first_columns(clean, width - 1) + "…";
}

std::string xml_escape(std::string_view text) {
    std::string out;
    for (char c : printable(text)) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

double rounded(double seconds) { return std::round(seconds * 1e6) / 1e6; }

std::string hosts_text(const json& report) {
    const std::string family = text_field(report, "family", "4");
    std::string text = family == "6" ? "IPv6" : family == "mapped" ? "mapped (IPv4 to a dual-stack IPv6 server)" : "IPv4";
    const json addresses = report.is_object() ? report.value("addresses", json::object()) : json::object();
    if (addresses.is_object() && addresses.contains("client"))
        text += ": client " + text_field(addresses, "client") + ", server " + text_field(addresses, "server");
    return text;
}

std::string text_field(const json& object, const char* key, const std::string& fallback) {
    if (!object.is_object()) return fallback;
    const auto it = object.find(key);
    if (it == object.end() || it->is_null() || it->is_structured()) return fallback;
    return scalar_text(*it);
}

double number_field(const json& object, const char* key, double fallback) {
    if (!object.is_object()) return fallback;
    const auto it = object.find(key);
    return it != object.end() && it->is_number() ? it->get<double>() : fallback;
}

bool bool_field(const json& object, const char* key, bool fallback) {
    if (!object.is_object()) return fallback;
    const auto it = object.find(key);
    return it != object.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

const json& array_field(const json& object, const char* key) {
    if (!object.is_object()) return empty_array();
    const auto it = object.find(key);
    return it != object.end() && it->is_array() ? *it : empty_array();
}

const json& object_field(const json& object, const char* key) {
    if (!object.is_object()) return empty_object();
    const auto it = object.find(key);
    return it != object.end() && it->is_object() ? *it : empty_object();
}

std::string scalar_text(const json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

}  // namespace socklab
