# Installs the built trikv into a scratch prefix, then configures, builds and runs the
# out-of-tree consumer in tests/consumer against that prefix (its plugin's conformance test
# included, through the installed harness), and runs the installed `trikv` CLI in an empty
# environment with the consumer's plugin (--plugin and TRIKV_PLUGINS: listed, attended through
# and compared with the exact engine; every loading error exits 2 with one line; the trust
# rules; the plugin carried into --slurm's scripts). Fails on the first failing step.
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
step("the plugin's conformance test (installed harness, trikv_add_conformance_test)"
     ${CMAKE_CTEST_COMMAND} --test-dir ${build} --output-on-failure --no-tests=error)

# The app must use the installed library, not the one in the build tree.
if(EXISTS /usr/bin/ldd)
  execute_process(COMMAND /usr/bin/ldd ${build}/app OUTPUT_VARIABLE linked)
  string(REGEX MATCH "libtrikv[^\n]*" trikv_line "${linked}")
  string(FIND "${trikv_line}" "${prefix}/lib" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "consumer: app does not load libtrikv from ${prefix}/lib: ${trikv_line}")
  endif()
endif()

# The plugin, through the installed CLI, run in an empty environment (env -i: no
# LD_LIBRARY_PATH, no PATH): its relative RUNPATH ($ORIGIN/../lib) must find the installed
# libtrikv on its own.
set(clean_environment /usr/bin/env -i)
# Sanitizer settings pass (scripts/sanitize.sh turns leak detection off); no search path does.
foreach(var ASAN_OPTIONS UBSAN_OPTIONS TSAN_OPTIONS LSAN_OPTIONS)
  if(DEFINED ENV{${var}})
    list(APPEND clean_environment "${var}=$ENV{${var}}")
  endif()
endforeach()
set(cli ${prefix}/bin/trikv)
set(plugin ${build}/libconsumer_cache.so)
set(data ${WORK_DIR}/data)
file(MAKE_DIRECTORY ${data})

# Runs the CLI (ARGN: environment assignments, then the command line) and expects exit status
# `want`; on success stdout must contain `expect`, on failure stderr must be exactly one line
# containing it.
function(cli name want expect)
  message(STATUS "consumer: ${name}")
  execute_process(COMMAND ${clean_environment} ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL want)
    message(FATAL_ERROR "consumer: ${name}: exit status ${status}, expected ${want}:\n${out}${err}")
  endif()
  if(want EQUAL 0)
    set(text "${out}")
  else()
    set(text "${err}")
    string(REGEX MATCHALL "\n" newlines "${err}")
    list(LENGTH newlines lines)
    if(NOT lines EQUAL 1)
      message(FATAL_ERROR "consumer: ${name}: expected one line on stderr, got ${lines}:\n${err}")
    endif()
  endif()
  string(FIND "${text}" "${expect}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "consumer: ${name}: output lacks '${expect}':\n${text}")
  endif()
endfunction()

cli("the installed CLI runs in an empty environment" 0 "factor" ${cli} caches)
cli("trikv --plugin lists the plugin's type" 0 "consumer-factor" ${cli} --plugin ${plugin} caches)
cli("TRIKV_PLUGINS lists it too" 0 "consumer-factor" TRIKV_PLUGINS=${plugin} ${cli} caches)
cli("the same library twice (and empty entries) is loaded once" 0 "consumer-factor"
    TRIKV_PLUGINS=${plugin}:: ${cli} --plugin ${plugin} --plugin ${plugin} caches)

step("write inputs" ${build}/plugin_data inputs ${data})
set(inputs --q ${data}/q.npy --k1 ${data}/k1.npy --k2 ${data}/k2.npy --v1 ${data}/v1.npy --v2 ${data}/v2.npy)
cli("trikv attend --cache consumer-factor" 0 "" ${cli} --plugin ${plugin} attend ${inputs} --cache consumer-factor
    --out ${data}/plugin.npy)
cli("trikv attend, exact engine" 0 "" ${cli} attend ${inputs} --out ${data}/exact.npy)
step("the plugin's output equals the exact engine's" ${build}/plugin_data compare ${data}/plugin.npy ${data}/exact.npy)

file(COPY_FILE ${plugin} ${data}/libconsumer_cache_copy.so)
cli("a missing plugin" 2 "--plugin: '${data}/missing.so' is not a file" ${cli} --plugin ${data}/missing.so caches)
cli("a missing plugin in TRIKV_PLUGINS" 2 "TRIKV_PLUGINS: '${data}/missing.so'"
    TRIKV_PLUGINS=${data}/missing.so ${cli} caches)
cli("a file that is not a library" 2 "cannot be loaded" ${cli} --plugin ${data}/q.npy caches)
cli("a library registering no cache type" 2 "registered no cache type" ${cli} --plugin ${prefix}/lib/libtrikv.so caches)
cli("a second library registering the same type" 2 "'consumer-factor' is registered twice"
    ${cli} --plugin ${plugin} --plugin ${data}/libconsumer_cache_copy.so caches)
cli("a plugin whose static initialiser throws (escaped, no abort)" 2
    "its static initialiser threw: plugin initialiser failed\\x1b[31m" ${cli} --plugin ${build}/libthrowing_plugin.so caches)
cli("an attend naming a type no plugin provides" 2 "consumer-factor" ${cli} attend ${inputs}
    --cache consumer-factor --out ${data}/never.npy)
if(EXISTS ${data}/never.npy)
  message(FATAL_ERROR "consumer: a failed attend wrote ${data}/never.npy")
endif()

# Trust: TRIKV_PLUGINS, set once and not shown on the command line, takes absolute paths only;
# a plugin others may write to loads with a warning.
cli("a relative path in TRIKV_PLUGINS" 2 "TRIKV_PLUGINS: 'libconsumer_cache.so' is a relative path"
    TRIKV_PLUGINS=libconsumer_cache.so ${cli} caches)
file(CHMOD ${data}/libconsumer_cache_copy.so PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE WORLD_WRITE)
execute_process(COMMAND ${clean_environment} ${cli} --plugin ${data}/libconsumer_cache_copy.so caches
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT status EQUAL 0 OR NOT err MATCHES "warning: --plugin: '${data}/libconsumer_cache_copy.so': the file is writable by every user")
  message(FATAL_ERROR "consumer: a world-writable plugin: exit ${status}, no warning:\n${err}")
endif()

# A study of the plugin's type as a Slurm job array (--dry-run: the scripts, nothing submitted):
# every task and the merge load the plugin by its absolute path. The study's npy data is named
# relative to the study file, and the CLI runs from another directory.
file(MAKE_DIRECTORY ${WORK_DIR}/study ${WORK_DIR}/elsewhere)
file(WRITE ${WORK_DIR}/study/plugin.toml "name = \"plugin\"\nout = \"${WORK_DIR}/results\"\ncaches = [\"consumer-factor\"]\n"
     "n = [4]\nd = [8]\nheads = [2]\nwarmup = 1\nrepetitions = 1\n[data]\nkind = \"npy\"\ndir = \"../data\"\n")
message(STATUS "consumer: --slurm --dry-run carries the plugin into the job and merge scripts")
execute_process(COMMAND ${clean_environment} TRIKV_PLUGINS=${plugin} ${cli} study ${WORK_DIR}/study/plugin.toml --slurm --dry-run
                WORKING_DIRECTORY ${WORK_DIR}/elsewhere RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX MATCHALL "exec '[^'\n]*' --plugin '${plugin}' study" carried "${out}")
list(LENGTH carried scripts)
if(NOT status EQUAL 0 OR NOT scripts EQUAL 2)
  message(FATAL_ERROR "consumer: --slurm --dry-run: exit ${status}, ${scripts} of 2 scripts load the plugin:\n${out}${err}")
endif()

file(REMOVE_RECURSE ${WORK_DIR})
