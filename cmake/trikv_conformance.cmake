# trikv_add_conformance_test(TARGET <library> TYPES <type>...)
#
# Registers a ctest test that holds the cache types a plugin (a MODULE or SHARED library target
# of this project, registering its types from static initialisers) to the conformance checks
# trikv's own types pass (<trikv/testing/conformance.hpp>): the exact checks against the float64
# reference for an exact type, the approximate checks for an approximate one, over every
# combination of the type's parameter choices. The test executable `<library>_conformance`
# loads the library with dlopen, as `trikv --plugin` does, and fails if a named type is not
# registered by it. Needs Catch2 v2 (Debian: catch2) and enable_testing().
set(TRIKV_CONFORMANCE_MAIN ${CMAKE_CURRENT_LIST_DIR}/trikv_conformance_main.cpp)

function(trikv_add_conformance_test)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "TARGET" "TYPES")
  if(NOT arg_TARGET OR NOT arg_TYPES)
    message(FATAL_ERROR "trikv_add_conformance_test: TARGET <library> and TYPES <type>... are required")
  endif()
  if(NOT TARGET ${arg_TARGET})
    message(FATAL_ERROR "trikv_add_conformance_test: '${arg_TARGET}' is not a target of this project")
  endif()
  find_package(Catch2 2 REQUIRED)
  set(test ${arg_TARGET}_conformance)
  add_executable(${test} ${TRIKV_CONFORMANCE_MAIN})
  target_link_libraries(${test} PRIVATE trikv::trikv Catch2::Catch2 ${CMAKE_DL_LIBS})
  list(JOIN arg_TYPES "," types)
  target_compile_definitions(${test} PRIVATE TRIKV_CONFORMANCE_LIBRARY="$<TARGET_FILE:${arg_TARGET}>"
                                             TRIKV_CONFORMANCE_TYPES="${types}")
  add_dependencies(${test} ${arg_TARGET})
  add_test(NAME "conformance: ${arg_TYPES}" COMMAND ${test})
endfunction()
