// Small helpers the pictures of a run share: text measured in terminal columns, text cleaned of
// what a program may have printed, XML escaping, and tolerant reads of report.json's fields (a
// report from an older socklab, or one edited by hand, may lack a key: the picture shows less).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/common.hpp"

namespace socklab {

// Columns of UTF-8 text: one per code point.
size_t columns(std::string_view text);

// The first `n` code points of `text`.
std::string first_columns(std::string_view text, size_t n);

// Control characters become spaces and bytes that are not UTF-8 become '?', so that a program's
// output can neither move the terminal's cursor nor make an XML file invalid.
std::string printable(std::string_view text);

// `text` made printable and cut to `width` columns, with "…" marking the cut.
std::string fit(std::string_view text, size_t width);

// `text` made printable, with & < > " ' written as entities: safe in XML text and attributes.
std::string xml_escape(std::string_view text);

// Seconds to the microsecond, as report.json writes times: plenty, and free of
// 1.0030000001-style noise.
double rounded(double seconds);

// object[key] as a string, number or bool, or `fallback` when it is missing or of another type.
std::string text_field(const nlohmann::json& object, const char* key, const std::string& fallback = "");
// The run's address family and hosts, as every picture says them: "IPv6: client 2001:db8:0:7::1,
// server 2001:db8:0:7::2" (a report without "family" is IPv4).
std::string hosts_text(const nlohmann::json& report);
double number_field(const nlohmann::json& object, const char* key, double fallback = 0);
bool bool_field(const nlohmann::json& object, const char* key, bool fallback = false);

// object[key] when it is an array (or an object), else an empty one: loops over it do nothing.
const nlohmann::json& array_field(const nlohmann::json& object, const char* key);
const nlohmann::json& object_field(const nlohmann::json& object, const char* key);

// A JSON value as plain text: strings without their quotes, anything else as JSON.
std::string scalar_text(const nlohmann::json& value);

}  // namespace socklab
