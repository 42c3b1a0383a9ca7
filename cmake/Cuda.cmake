# Resolves LATENTBUS_CUDA (ON, OFF, AUTO) into LATENTBUS_HAVE_CUDA and, when set, enables
# the CUDA language and finds the toolkit (CUDA::cudart_static). The default
# architectures are Turing (sm_75), Ampere (sm_80) and Hopper (sm_90, with PTX for later
# GPUs); set CMAKE_CUDA_ARCHITECTURES to build for others.
set(LATENTBUS_HAVE_CUDA OFF)
string(TOUPPER "${LATENTBUS_CUDA}" _latentbus_cuda)
# Sanitizer and fuzzing builds add host-compiler flags to every target, which nvcc does
# not take: they leave the device codec out (its CPU stand-in is still built).
if(LATENTBUS_ASAN OR LATENTBUS_TSAN OR LATENTBUS_FUZZ)
  if(_latentbus_cuda STREQUAL "ON")
    message(FATAL_ERROR "LATENTBUS_CUDA=ON cannot be combined with sanitizer or fuzzing builds")
  endif()
  set(_latentbus_cuda OFF)
endif()
if(_latentbus_cuda STREQUAL "AUTO" OR _latentbus_cuda STREQUAL "ON")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(LATENTBUS_HAVE_CUDA ON)
  elseif(_latentbus_cuda STREQUAL "ON")
    message(FATAL_ERROR "LATENTBUS_CUDA=ON but no CUDA compiler (nvcc) was found: install the "
                        "CUDA toolkit, set CMAKE_CUDA_COMPILER, or use -DLATENTBUS_CUDA=AUTO")
  endif()
elseif(NOT _latentbus_cuda STREQUAL "OFF")
  message(FATAL_ERROR "LATENTBUS_CUDA must be ON, OFF or AUTO, got '${LATENTBUS_CUDA}'")
endif()
if(LATENTBUS_HAVE_CUDA)
  if(NOT CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 75-real 80-real 90)
  endif()
  enable_language(CUDA)
  set(CMAKE_CUDA_STANDARD 17)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  find_package(CUDAToolkit REQUIRED)
  if(LATENTBUS_CCACHE AND NOT CMAKE_CUDA_COMPILER_LAUNCHER)
    set(CMAKE_CUDA_COMPILER_LAUNCHER ${LATENTBUS_CCACHE})
  endif()
  message(STATUS "latentbus: CUDA device codec on (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, "
                 "architectures ${CMAKE_CUDA_ARCHITECTURES})")
else()
  message(STATUS "latentbus: CUDA device codec off (LATENTBUS_CUDA=${LATENTBUS_CUDA})")
endif()
