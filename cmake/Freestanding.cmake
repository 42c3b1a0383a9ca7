# latentbus_freestanding_elf(NAME ENTRY symbol SRCS ...): a static x86-64 ELF with no C
# library, no heap and no start-up code, whose entry is one function of the System V ABI
# (tests/emulated/ loads it into an emulated CPU and calls that function). Its sources may
# use the compiler's headers only (<cstdint>, <immintrin.h>, ...); tests/emulated/
# freestanding.cc supplies memcpy and friends. Built only in plain x86-64 test builds.
function(latentbus_freestanding_elf name)
  if(NOT LATENTBUS_TESTS OR LATENTBUS_ASAN OR LATENTBUS_TSAN OR LATENTBUS_FUZZ
     OR NOT CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
    return()
  endif()
  cmake_parse_arguments(ARG "" "ENTRY" "SRCS" ${ARGN})
  set(runtime ${PROJECT_SOURCE_DIR}/tests/emulated/freestanding.cc)
  add_executable(${name} ${ARG_SRCS} ${runtime})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE -ffreestanding -fno-exceptions -fno-rtti
                         -fno-threadsafe-statics -fno-stack-protector -fno-pic
                         -fno-asynchronous-unwind-tables -fcf-protection=none)
  set_source_files_properties(${runtime} TARGET_DIRECTORY ${name} PROPERTIES COMPILE_OPTIONS
                              "-fno-builtin;-fno-tree-loop-distribute-patterns")
  target_link_options(${name} PRIVATE -nostdlib -static -no-pie -Wl,-e,${ARG_ENTRY}
                      -Wl,--build-id=none)
  target_link_libraries(${name} PRIVATE gcc)
  set_target_properties(${name} PROPERTIES SUFFIX ".elf"
                        RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
endfunction()
