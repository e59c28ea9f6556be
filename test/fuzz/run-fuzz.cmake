# One fuzz.* ctest test: replay the committed corpus (regression), then fuzz
# for a bounded time in a scratch corpus under the build tree, so the source
# tree is never written. Ends by printing the number of runs executed.
#
# cmake -DFUZZER=bin -DSEEDS=dir -DWORK=dir -DSECONDS=n -P run-fuzz.cmake
# cmake -DMISSING=hint -P run-fuzz.cmake   (no clang/libFuzzer: always fails)

if(DEFINED MISSING)
    message(FATAL_ERROR "fuzzers were not built (clang or libFuzzer missing): ${MISSING}")
endif()
foreach(v FUZZER SEEDS WORK SECONDS)
    if(NOT DEFINED ${v})
        message(FATAL_ERROR "run-fuzz.cmake: -D${v}=... is required")
    endif()
endforeach()
if(NOT EXISTS ${FUZZER})
    message(FATAL_ERROR "${FUZZER} does not exist: build it first (cmake --build . --target fuzzers)")
endif()
if(DEFINED ENV{GRANITE_FUZZ_SECONDS})
    if(NOT "$ENV{GRANITE_FUZZ_SECONDS}" MATCHES "^[0-9]+$")
        message(FATAL_ERROR "GRANITE_FUZZ_SECONDS must be a number of seconds")
    endif()
    set(SECONDS $ENV{GRANITE_FUZZ_SECONDS})
endif()
get_filename_component(name ${FUZZER} NAME)

# A hang is a bug too: no single input may take this long.
set(common_args -timeout=10 -artifact_prefix=${WORK}/)
file(MAKE_DIRECTORY ${WORK}/corpus)

function(show log)
    execute_process(COMMAND ${CMAKE_COMMAND} -E cat ${log})
endfunction()

# 1. Regression: every committed input, once each.
file(GLOB seeds LIST_DIRECTORIES false ${SEEDS}/*)
list(LENGTH seeds nseeds)
if(nseeds EQUAL 0)
    message(FATAL_ERROR "no seed inputs in ${SEEDS}")
endif()
execute_process(COMMAND ${FUZZER} ${common_args} ${seeds}
    RESULT_VARIABLE rc OUTPUT_FILE ${WORK}/regress.log ERROR_FILE ${WORK}/regress.log)
if(NOT rc EQUAL 0)
    show(${WORK}/regress.log)
    message(FATAL_ERROR "${name}: a committed corpus input fails (exit ${rc}); see above")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E echo "${name}: ${nseeds} corpus inputs replayed, all pass")

# 2. Fuzz, starting from the seeds plus whatever earlier runs found.
file(COPY ${seeds} DESTINATION ${WORK}/corpus)
execute_process(
    COMMAND ${FUZZER} ${common_args} -max_total_time=${SECONDS} -print_final_stats=1 ${WORK}/corpus
    RESULT_VARIABLE rc OUTPUT_FILE ${WORK}/fuzz.log ERROR_FILE ${WORK}/fuzz.log)
show(${WORK}/fuzz.log)
file(READ ${WORK}/fuzz.log log)
if(NOT rc EQUAL 0)
    string(REGEX MATCH "Test unit written to [^\n]*" artifact "${log}")
    message(FATAL_ERROR "${name}: fuzzing found a failure (exit ${rc}). ${artifact}\n"
        "Reproduce with: ${FUZZER} <that file>; keep it as ${SEEDS}/regress-<what>")
endif()
string(REGEX MATCH "Done ([0-9]+) runs in ([0-9]+) second" m "${log}")
if(NOT m)
    message(FATAL_ERROR "${name}: libFuzzer did not report its runs; see its output above")
endif()
set(runs ${CMAKE_MATCH_1})
set(secs ${CMAKE_MATCH_2})
string(REGEX MATCHALL "cov: [0-9]+ ft: [0-9]+" covs "${log}")
list(POP_BACK covs cov)
execute_process(COMMAND ${CMAKE_COMMAND} -E echo "${name}: ${cov} after ${secs} s, runs: ${runs}")
