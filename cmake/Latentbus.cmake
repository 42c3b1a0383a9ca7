# Helpers that give every first-party target the same flags.

# Warnings for code we write (generated code is compiled without them).
function(latentbus_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                         -Wnon-virtual-dtor -Wno-unused-parameter)
endfunction()

# latentbus_library(NAME SRCS ... DEPS ...): a static library whose headers are
# included from the repository root ("codec/packet.h").
function(latentbus_library name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SRCS})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  latentbus_warnings(${name})
endfunction()

# latentbus_test(NAME SRCS ... DEPS ...): one gtest binary registered with ctest.
function(latentbus_test name)
  if(NOT LATENTBUS_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SRCS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  latentbus_warnings(${name})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 600)
endfunction()

# latentbus_expect_test(NAME EXIT code [MATCH regex ...] [JSON_KEY key ...] COMMAND ...):
# a ctest entry that checks the command's exact exit code and its output
# (cmake/expect_run.py), where PASS_REGULAR_EXPRESSION would ignore the exit code and
# WILL_FAIL would accept any failure, a crash included.
function(latentbus_expect_test name)
  if(NOT LATENTBUS_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "EXIT" "MATCH;JSON_KEY;COMMAND" ${ARGN})
  set(checks --exit ${ARG_EXIT})
  foreach(m ${ARG_MATCH})
    list(APPEND checks "--match=${m}")  # one argument, also when it starts with --
  endforeach()
  foreach(k ${ARG_JSON_KEY})
    list(APPEND checks "--json-key=${k}")
  endforeach()
  add_test(NAME ${name}
           COMMAND python3 ${PROJECT_SOURCE_DIR}/cmake/expect_run.py ${checks} -- ${ARG_COMMAND})
endfunction()

# The instructions of the kernels' AVX-512 variants (agent/llm/, bridge/): the Skylake-X set.
# GCC 12's AVX-512 intrinsics start from _mm512_undefined_*, which -Wmaybe-uninitialized and
# -Wuninitialized report in every caller (GCC bug 105593).
set(LATENTBUS_AVX512_FLAGS -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma
                           $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>
                           $<$<CXX_COMPILER_ID:GNU>:-Wno-uninitialized>)
