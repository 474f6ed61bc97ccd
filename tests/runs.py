#!/usr/bin/env python3
"""The newest complete run directory of each variant under a captures directory.

    runs.py <captures> [<scenario> [<variant>]]    prints one directory a line

A run is complete once its report.json exists (it is written last, renamed into place); the
newest is the one whose report.json was written last. html-check.py and the tshark check
(scenario-checks.sh) both find their runs here.
"""
import json
import os
import sys


def newest_runs(captures, only_scenario="", only_variant=""):
    newest = {}
    for scenario in sorted(os.listdir(captures)):
        folder = os.path.join(captures, scenario)
        if (only_scenario and scenario != only_scenario) or not os.path.isdir(folder):
            continue
        for run in os.listdir(folder):
            report = os.path.join(folder, run, "report.json")
            try:
                variant = json.load(open(report)).get("variant", "")
            except (ValueError, OSError):
                continue
            if only_variant and variant != only_variant:
                continue
            when = os.path.getmtime(report)
            if (scenario, variant) not in newest or when > newest[scenario, variant][0]:
                newest[scenario, variant] = (when, os.path.join(folder, run))
    return [newest[key][1] for key in sorted(newest)]


if __name__ == "__main__":
    if not 2 <= len(sys.argv) <= 4 or not os.path.isdir(sys.argv[1]):
        sys.exit("usage: runs.py <captures directory> [<scenario> [<variant>]]")
    for run in newest_runs(*sys.argv[1:]):
        print(run)
