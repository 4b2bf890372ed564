# Finds every third-party dependency once and exposes it as an imported target.
# Debian 12 packages locally; modules + a CUDA LibTorch on clusters (see README "Expanse").
find_package(Threads REQUIRED)
find_package(spdlog REQUIRED)
find_package(Boost 1.71 REQUIRED COMPONENTS program_options)
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(PNG REQUIRED)
find_package(JPEG REQUIRED)
find_package(MPI REQUIRED COMPONENTS CXX)
find_package(nlohmann_json 3 REQUIRED)

find_package(Torch QUIET)
if(NOT Torch_FOUND)
  message(FATAL_ERROR
    "LibTorch not found.\n"
    "  Debian: apt-get install libtorch-dev (or run scripts/install-deps).\n"
    "  Cluster: pass -DTorch_DIR=<libtorch>/share/cmake/Torch, or -DCMAKE_PREFIX_PATH=$(python3 -c "
    "'import torch;print(torch.utils.cmake_prefix_path)').")
endif()
# Torch's config exports flags through TORCH_CXX_FLAGS (ABI macro); keep them on every torch consumer.
add_library(sdn_torch INTERFACE)
target_link_libraries(sdn_torch INTERFACE ${TORCH_LIBRARIES})
separate_arguments(_sdn_torch_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")
target_compile_options(sdn_torch INTERFACE ${_sdn_torch_flags})

if(SDN_WITH_NCCL)
  if(NOT SDN_WITH_CUDA)
    message(FATAL_ERROR "SDN_WITH_NCCL=ON needs SDN_WITH_CUDA=ON and a CUDA LibTorch.")
  endif()
  find_package(NCCL REQUIRED)
endif()
if(SDN_WITH_CUDA)
  find_package(CUDAToolkit REQUIRED)
  # Code that needs CUDA-only LibTorch headers (the CUDA generator's state in checkpoints) tests this macro.
  target_compile_definitions(sdn_torch INTERFACE SDN_WITH_CUDA=1)
endif()
