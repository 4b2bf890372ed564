# Helpers shared by src/ and tests/: a layer library and a gtest registration.

# sdn_add_layer(name SOURCES ... DEPS ... [TORCH]): one static library per architectural layer.
function(sdn_add_layer name)
  cmake_parse_arguments(L "TORCH" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${L_SOURCES})
  target_include_directories(${name} PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/src>)
  target_link_libraries(${name} PUBLIC ${L_DEPS} PRIVATE sdn_options)
  if(L_TORCH)
    target_link_libraries(${name} PUBLIC sdn_torch)
    sdn_use_torch_pch(${name})
  endif()
endfunction()

# Every LibTorch consumer reuses one precompiled <torch/torch.h>: a one-file change recompiles in seconds.
function(sdn_use_torch_pch target)
  if(SDN_USE_PCH)
    target_precompile_headers(${target} REUSE_FROM sdn_torch_pch)
  endif()
endfunction()

# sdn_add_gtest(name SOURCES ... DEPS ... LABELS ... [TORCH]): a gtest binary registered with ctest.
function(sdn_add_gtest name)
  cmake_parse_arguments(T "TORCH" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_DEPS} GTest::gtest GTest::gtest_main sdn_options)
  if(T_TORCH)
    sdn_use_torch_pch(${name})
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  # A GTEST_SKIP shows as "Skipped" in ctest, not "Passed"; failures still fail (see cmake/run_gtest.sh).
  add_test(NAME ${name} COMMAND bash ${PROJECT_SOURCE_DIR}/cmake/run_gtest.sh $<TARGET_FILE:${name}>)
  set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT} SKIP_RETURN_CODE 77
                       ENVIRONMENT "SDN_SOURCE_DIR=${PROJECT_SOURCE_DIR};OMP_NUM_THREADS=1")
endfunction()

# sdn_add_mpi_test(name NP n SOURCES ... DEPS ... [TORCH]): gtest binary run under mpirun -np n.
function(sdn_add_mpi_test name)
  cmake_parse_arguments(T "TORCH" "NP;TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_DEPS} GTest::gtest sdn_options)
  if(T_TORCH)
    sdn_use_torch_pch(${name})
  endif()
  if(NOT T_NP)
    set(T_NP 2)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 600)
  endif()
  add_test(NAME ${name} COMMAND ${MPIEXEC_EXECUTABLE} --allow-run-as-root --oversubscribe
           ${MPIEXEC_NUMPROC_FLAG} ${T_NP} $<TARGET_FILE:${name}>)
  set_tests_properties(${name} PROPERTIES LABELS "mpi;${T_LABELS}" TIMEOUT ${T_TIMEOUT}
                       ENVIRONMENT "OMP_NUM_THREADS=1;OMPI_MCA_rmaps_base_oversubscribe=1")
endfunction()
