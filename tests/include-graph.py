#!/usr/bin/env python3
"""The harness's folders and which include which, checked for cycles.

    include-graph.py [--dot] [--readme FILE] [<source directory>]

Folder A depends on folder B when a file in harness/A includes "B/...". Prints one line per
folder, e.g. "scenario -> expectations, observation" ("(none)" when it includes no other
folder), or with --dot the same graph for Graphviz, cycles in red. Exits 1 naming cycles on
stderr (enough of them to take in every edge that lies on one), 0 when there is none: the
parts of the harness must not loop, so that each can be built and tested on top of the ones
it uses. With --readme, the graph FILE shows between its lines <!-- include-graph --> and
<!-- /include-graph --> (a fenced block of these lines) must be today's: exit 1 when it is not.
"""
import argparse
import glob
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"/]+)/', re.MULTILINE)


def folder_graph(harness):
    """{folder: set of the other folders its files include}, for every folder of `harness`."""
    folders = sorted(name for name in os.listdir(harness) if os.path.isdir(os.path.join(harness, name)))
    graph = {folder: set() for folder in folders}
    for folder in folders:
        for path in glob.glob(os.path.join(harness, folder, "*.[hc]pp")):
            with open(path, encoding="utf-8", errors="replace") as f:
                for included in INCLUDE.findall(f.read()):
                    # Not a harness folder: a library's header such as "nlohmann/json.hpp".
                    if included in graph and included != folder:
                        graph[folder].add(included)
    return graph


def cycles(graph):
    """Cycles that between them take every edge that lies on one: for each such edge a -> b, the
    shortest way back from b to a. Each is a list of folders from its first folder (by name) back
    to it, e.g. ["a", "b", "a"]; sorted, without repeats."""
    found = set()
    for component in strongly_connected(graph):
        for a in sorted(component):
            for b in sorted(graph[a] & component):
                loop = shortest_path(graph, component, b, a)  # b ... a, and a -> b closes it
                first = loop.index(min(loop))
                loop = loop[first:] + loop[:first]
                found.add(tuple(loop + [loop[0]]))
    return [list(loop) for loop in sorted(found)]


def strongly_connected(graph):
    """The sets of two or more folders that each reach one another (Tarjan's algorithm)."""
    index, low, on_stack, stack, components = {}, {}, set(), [], []

    def visit(folder):
        index[folder] = low[folder] = len(index)
        stack.append(folder)
        on_stack.add(folder)
        for other in sorted(graph[folder]):
            if other not in index:
                visit(other)
                low[folder] = min(low[folder], low[other])
            elif other in on_stack:
                low[folder] = min(low[folder], index[other])
        if low[folder] == index[folder]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == folder:
                    break
            if len(component) > 1:
                components.append(component)

    for folder in sorted(graph):
        if folder not in index:
            visit(folder)
    return components


def shortest_path(graph, component, start, end):
    """The shortest way from `start` to `end` within the component, both included."""
    paths, seen = [[start]], {start}
    while paths:  # breadth first; within a strongly connected component every folder is reached
        next_paths = []
        for path in paths:
            if path[-1] == end:
                return path
            for other in sorted(graph[path[-1]] & component):
                if other not in seen:
                    seen.add(other)
                    next_paths.append(path + [other])
        paths = next_paths
    raise AssertionError(f"{end} is not reached from {start} in its own component")


def dot(graph, loops):
    in_cycle = {(a, b) for loop in loops for a, b in zip(loop, loop[1:])}
    lines = ["digraph harness {", "  rankdir=LR;", "  node [shape=box];"]
    lines += [f'  "{folder}";' for folder in sorted(graph)]
    for folder in sorted(graph):
        for other in sorted(graph[folder]):
            colour = " [color=red]" if (folder, other) in in_cycle else ""
            lines.append(f'  "{folder}" -> "{other}"{colour};')
    return "\n".join(lines + ["}"])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description="The include graph of the harness's folders, checked for cycles.")
    parser.add_argument("--dot", action="store_true", help="print a Graphviz digraph instead of one line per folder")
    parser.add_argument("--readme", help="a Markdown file whose include-graph block must show this graph")
    parser.add_argument("source", nargs="?", default=os.path.dirname(here),
                        help="the source directory, which holds harness/ (default: this script's project)")
    args = parser.parse_args()
    harness = os.path.join(args.source, "harness")
    if not os.path.isdir(harness):
        sys.exit(f"include-graph.py: no harness folder in {args.source}")

    graph = folder_graph(harness)
    loops = cycles(graph)
    lines = [f"{folder} -> {', '.join(sorted(graph[folder])) or '(none)'}" for folder in sorted(graph)]
    print(dot(graph, loops) if args.dot else "\n".join(lines))
    for loop in loops:
        print("cycle: " + " -> ".join(loop), file=sys.stderr)
    stale = args.readme and shown_graph(args.readme) != lines
    if stale:
        print(f"include-graph.py: the graph in {args.readme} is not today's: put the lines above between its "
              "<!-- include-graph --> markers", file=sys.stderr)
    return 1 if loops or stale else 0


def shown_graph(path):
    """The lines of the fenced block between a file's include-graph markers (None without them)."""
    text = open(path, encoding="utf-8").read()
    m = re.search(r"<!-- include-graph -->\s*```\n(.*?)```\s*<!-- /include-graph -->", text, re.DOTALL)
    return m.group(1).splitlines() if m else None


if __name__ == "__main__":
    sys.exit(main())
