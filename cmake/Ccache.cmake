# Use ccache when it is installed; builds work the same without it.
find_program(LATENTBUS_CCACHE ccache)
if(LATENTBUS_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_C_COMPILER_LAUNCHER ${LATENTBUS_CCACHE})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${LATENTBUS_CCACHE})
endif()
