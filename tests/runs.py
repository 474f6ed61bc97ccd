#!/usr/bin/env python3
"""The newest complete run directory of each variant and address family under a captures directory.

    runs.py <captures> [<scenario> [<variant> [<family>]]]    prints one directory a line

(family: 4, 6 or mapped, as report.json's "family"; a report without one is of family 4)

A run is complete once its report.json exists (it is written last, renamed into place); the
newest is the one whose report.json was written last. html-check.py and the tshark check
(scenario-checks.sh) both find their runs here.
"""
import json
import os
import sys


def newest_runs(captures, only_scenario="", only_variant="", only_family=""):
    newest = {}
    for scenario in sorted(os.listdir(captures)):
        folder = os.path.join(captures, scenario)
        if (only_scenario and scenario != only_scenario) or not os.path.isdir(folder):
            continue
        for run in os.listdir(folder):
            report = os.path.join(folder, run, "report.json")
            try:
                r = json.load(open(report))
            except (ValueError, OSError):
                continue
            key = (scenario, r.get("variant", ""), r.get("family", "4"))
            if (only_variant and key[1] != only_variant) or (only_family and key[2] != only_family):
                continue
            when = os.path.getmtime(report)
            if key not in newest or when > newest[key][0]:
                newest[key] = (when, os.path.join(folder, run))
    return [newest[key][1] for key in sorted(newest)]


if __name__ == "__main__":
    if not 2 <= len(sys.argv) <= 5 or not os.path.isdir(sys.argv[1]):
        sys.exit("usage: runs.py <captures directory> [<scenario> [<variant> [<family>]]]")
    for run in newest_runs(*sys.argv[1:]):
        print(run)
