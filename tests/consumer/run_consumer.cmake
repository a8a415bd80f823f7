# Installs the built trikv into a scratch prefix, then configures, builds and runs the
# out-of-tree consumer in tests/consumer against that prefix. Fails on the first failing step.
# Run by ctest (see tests/CMakeLists.txt) as:
#   cmake -DTRIKV_BUILD_DIR=... -DCONSUMER_SOURCE_DIR=... -DWORK_DIR=... [-DCONSUMER_FLAGS=...]
#         -P run_consumer.cmake
cmake_minimum_required(VERSION 3.25)
foreach(var TRIKV_BUILD_DIR CONSUMER_SOURCE_DIR WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_consumer.cmake: -D${var}=... is required")
  endif()
endforeach()

set(prefix ${WORK_DIR}/prefix)
set(build ${WORK_DIR}/build)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(step name)
  message(STATUS "consumer: ${name}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "consumer: ${name} failed (${status}):\n${out}")
  endif()
  message(STATUS "${out}")
endfunction()

step("install trikv into ${prefix}"
     ${CMAKE_COMMAND} --install ${TRIKV_BUILD_DIR} --prefix ${prefix})
if(NOT EXISTS ${prefix}/include/trikv/caches/registry.hpp OR NOT EXISTS ${prefix}/include/trikv/attention/reference.hpp)
  message(FATAL_ERROR "consumer: headers are not installed under ${prefix}/include/trikv/<layer>/")
endif()

# The consumer's build-tree RPATH points at ${prefix}/lib (where libtrikv.so was installed),
# so the app runs without LD_LIBRARY_PATH; CONSUMER_FLAGS carries e.g. sanitizer flags, which
# an executable must share with an instrumented libtrikv.
step("configure"
     ${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${build} -DCMAKE_BUILD_TYPE=Release
     -DCMAKE_PREFIX_PATH=${prefix} "-DCMAKE_CXX_FLAGS=${CONSUMER_FLAGS}"
     "-DCMAKE_EXE_LINKER_FLAGS=${CONSUMER_FLAGS}")
step("build" ${CMAKE_COMMAND} --build ${build})
step("run" ${build}/app)

# The app must use the installed library, not the one in the build tree.
if(EXISTS /usr/bin/ldd)
  execute_process(COMMAND /usr/bin/ldd ${build}/app OUTPUT_VARIABLE linked)
  string(REGEX MATCH "libtrikv[^\n]*" trikv_line "${linked}")
  string(FIND "${trikv_line}" "${prefix}/lib" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "consumer: app does not load libtrikv from ${prefix}/lib: ${trikv_line}")
  endif()
endif()
file(REMOVE_RECURSE ${WORK_DIR})
