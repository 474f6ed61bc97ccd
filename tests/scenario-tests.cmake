# Included by ctest (the directory's TEST_INCLUDE_FILES): one test per scenario variant, from the
# listing the build writes (`socklab list --json` > build/scenarios.json), so a variant added to a
# scenario.json is a test after the next build, without configuring again. Set by the caller:
# SOCKLAB (the binary), SOURCE_DIR, LISTING (scenarios.json).
#   <scenario>.<variant>          the run in IPv4; label scenario; a fixture of its own for the checks of it
#   <scenario>.<variant>.ipv6     the same in IPv6, and .mapped: IPv4 to a dual-stack IPv6 server
#   <...>.tshark                  tshark must read the run's pcap and see the same TCP segments as the
#                                 report, and nothing but the run's own traffic
#   reports.html                  each variant's newest HTML report loads in headless Chromium with its
#                                 diagram and expectations table: one browser for all, after the runs;
#                                 label html, not scenario: it checks the pages, not the kernel
if(NOT EXISTS "${LISTING}")
  add_test(scenarios_NOT_BUILT "${CMAKE_COMMAND}" -E echo "${LISTING} is missing: build first (cmake --build build)")
  set_tests_properties(scenarios_NOT_BUILT PROPERTIES WILL_FAIL TRUE)
  return()
endif()
file(READ "${LISTING}" listing)
string(JSON count LENGTH "${listing}" scenarios)
set(runs "")
math(EXPR last "${count} - 1")
foreach(i RANGE 0 ${last})
  string(JSON name GET "${listing}" scenarios ${i} name)
  string(JSON error ERROR_VARIABLE none GET "${listing}" scenarios ${i} error)
  if(NOT error MATCHES "NOTFOUND$")
    # The description does not load: one test that fails with socklab's sentence.
    add_test(${name}.description "${SOCKLAB}" list)
    set_tests_properties(${name}.description PROPERTIES LABELS scenario)
    continue()
  endif()
  string(JSON variants LENGTH "${listing}" scenarios ${i} variants)
  if(variants EQUAL 0)
    continue()
  endif()
  math(EXPR last_variant "${variants} - 1")
  foreach(j RANGE 0 ${last_variant})
    string(JSON variant GET "${listing}" scenarios ${i} variants ${j} name)
    # Each variant in each address family: IPv4 (no suffix), IPv6 (.ipv6), IPv4 to a dual-stack
    # IPv6 server (.mapped).
    string(JSON families GET "${listing}" scenarios ${i} variants ${j} families)
    foreach(family 4 6 mapped)
      if(NOT families MATCHES "\"${family}\"")
        continue()  # the variant does not run in this family
      endif()
      set(test ${name}.${variant})
      if(family STREQUAL "6")
        set(test ${test}.ipv6)
      elseif(family STREQUAL "mapped")
        set(test ${test}.mapped)
      endif()
      add_test(${test} "${SOCKLAB}" run ${name} --variant ${variant} --family ${family} --color never)
      set_tests_properties(${test} PROPERTIES FIXTURES_REQUIRED host FIXTURES_SETUP ${test} LABELS scenario TIMEOUT 300)
      add_test(${test}.tshark "${SOURCE_DIR}/tests/scenario-checks.sh" tshark "${SOURCE_DIR}/captures" ${name} ${variant} ${family})
      set_tests_properties(${test}.tshark PROPERTIES FIXTURES_REQUIRED ${test} LABELS scenario)
      list(APPEND runs ${test})
    endforeach()
  endforeach()
endforeach()
add_test(reports.html "${SOURCE_DIR}/tests/html-check.py" --newest "${SOURCE_DIR}/captures")
set_tests_properties(reports.html PROPERTIES DEPENDS "${runs}" LABELS html TIMEOUT 300)
