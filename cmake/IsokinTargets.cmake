# isokin_add_library(<part> SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
# One library per top-level folder, public headers under <part>/include/isokin/<part>/,
# aliased as isokin::<part>.
function(isokin_add_library part)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(isokin_${part} ${ARG_SOURCES})
  add_library(isokin::${part} ALIAS isokin_${part})
  target_include_directories(isokin_${part}
    PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(isokin_${part} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE isokin_warnings ${ARG_PRIVATE_DEPS})
endfunction()

# isokin_add_test(<name> SOURCES ... [LIBS ...] [TIMEOUT seconds]): one GoogleTest executable,
# discovered by ctest. TIMEOUT: ctest fails (and kills) a test that runs longer, for tests whose
# failure mode is a hang.
function(isokin_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBS" ${ARGN})
  set(timeout)
  if(ARG_TIMEOUT)
    set(timeout TIMEOUT ${ARG_TIMEOUT})
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE isokin_warnings GTest::gtest_main ${ARG_LIBS})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(${name} PRIVATE
    ISOKIN_SHARED_DIR="${ISOKIN_SHARED_DIR}"
    ISOKIN_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    ISOKIN_CLI_PATH="$<TARGET_FILE:isokin>")
  gtest_discover_tests(${name}
    # One value per property: gtest_discover_tests splits list values into separate words.
    # Label = executable, so a build that has only some test programs can select them (-L).
    PROPERTIES LABELS ${name} ENVIRONMENT QT_QPA_PLATFORM=offscreen ${timeout}
    DISCOVERY_TIMEOUT 60)
endfunction()
