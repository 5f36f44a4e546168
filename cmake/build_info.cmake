# Run at every build (not only at configure time): writes build_info.hpp with the current git revision,
# "-dirty" when tracked files differ from it, so result files say which code made them. configure_file
# rewrites the header only when its content changes, so an unchanged revision rebuilds nothing.
# Inputs: SOURCE_DIR, INPUT, OUTPUT, PROJECT_VERSION, MOE_BUILD_FLAGS.
execute_process(COMMAND git rev-parse --short=12 HEAD WORKING_DIRECTORY ${SOURCE_DIR}
                OUTPUT_VARIABLE MOE_GIT_REVISION OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET
                RESULT_VARIABLE rev_status)
if(NOT rev_status EQUAL 0 OR NOT MOE_GIT_REVISION)
  set(MOE_GIT_REVISION "unknown")
else()
  execute_process(COMMAND git status --porcelain --untracked-files=no WORKING_DIRECTORY ${SOURCE_DIR}
                  OUTPUT_VARIABLE changes OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(changes)
    string(APPEND MOE_GIT_REVISION "-dirty")
  endif()
endif()
configure_file(${INPUT} ${OUTPUT} @ONLY)
