#!/usr/bin/env bash
# bench/gpu-check.sh: the GPU checks of issue 3 on a machine with one NVIDIA GPU, in one self-contained run.
#
#   1. checks the machine: nvidia-smi sees a GPU; python3 has a CUDA torch built with the C++11 ABI (the
#      Debian libraries below use it); the CUDA toolkit (nvcc) that torch's CMake config needs; NCCL from
#      python's nvidia/nccl package (pip nvidia-nccl-cu*), used as NCCL_HOME;
#   2. unpacks the Debian packages in .debs/ with `dpkg -x` into a private prefix (.debs/root; nothing is
#      installed system-wide) and checks that their libraries resolve (ldd) and that the relocated Open MPI
#      launcher starts;
#   3. configures build-gpu/ with -DSDN_WITH_CUDA=ON -DSDN_WITH_NCCL=ON, CMAKE_PREFIX_PATH = torch's
#      cmake_prefix_path + the private prefix, and explicit MPI/HDF5 locations (their wrappers, mpicxx and h5cc,
#      carry /usr paths and cannot be used from the prefix); builds sdn and the gpu-labelled test;
#   4. runs `ctest -L gpu` (the NCCL reducer test, 1 rank on the GPU);
#   5. runs `sdn bench step --device cuda` for drn_d_22 and resnet50dilated8_ppm_deepsup: the C++ training
#      step vs the same model in this python3's torch on the same GPU.
# Everything it prints goes to $OUT too (default build-gpu/gpu-check-out): env.txt, deps.txt, configure.log,
# build.log, ctest.log, bench-step-<arch>.txt, and summary.md (the commands and results, for bench/RESULTS.md).
# Any failure stops the script with "gpu-check: FAILED at <step>: <why>" and the log to read.
#
# Before running: on a Debian 12 (bookworm, amd64) machine with apt, download the packages into .debs/:
#   mkdir -p .debs && (cd .debs && apt-get download $(bench/gpu-check.sh --list-debs))
# and bring .debs/ along (it is git-ignored). The packages (build headers + runtime libraries not found on a
# minimal system; compilers, glibc, libstdc++ and zlib come from the host):
#   Open MPI:  libopenmpi-dev libopenmpi3 openmpi-bin openmpi-common libpmix2 libevent-core-2.1-7
#              libevent-pthreads-2.1-7 libhwloc15 libfabric1 libucx0 libibverbs1 ibverbs-providers librdmacm1
#              libpsm2-2 libpsm-infinipath1 libnl-3-200 libnl-route-3-200 libnuma1 libltdl7 libmunge2
#              libgfortran5 libxnvctrl0
#   HDF5:      libhdf5-dev libhdf5-103-1 libhdf5-hl-100 libhdf5-cpp-103-1 libaec-dev libaec0 libsz2 libcurl4
#              libnghttp2-14 librtmp1 libssh2-1 libpsl5 libbrotli1 libldap-2.5-0 libsasl2-2 libsasl2-modules-db
#   Boost.PO:  libboost-program-options-dev libboost-program-options1.74-dev libboost-program-options1.74.0
#              libboost1.74-dev
#   logging:   libspdlog-dev libspdlog1.10 libfmt-dev libfmt9 nlohmann-json3-dev
#   images:    libpng-dev libpng16-16 zlib1g-dev libjpeg-dev libjpeg62-turbo-dev libjpeg62-turbo
#   tests:     libgtest-dev googletest
#
# Usage: bench/gpu-check.sh [--deps-only] [--no-bench] [--list-debs] [--help]
#   --deps-only  steps 1-2 without the GPU checks (a cheap check of .debs/ on any machine)
#   --no-bench   skip step 5
# Environment: OUT (output folder), PYTHON (default python3), DEBS (default .debs), JOBS (default nproc),
#   CUDA_HOME (toolkit root when nvcc is not on PATH), SDN_BUILD_DIR (default build-gpu),
#   BENCH_ROUNDS (default 3), BENCH_STEPS (default 5), BUILD_TARGETS (default "sdn test_dist_nccl").
set -euo pipefail

DEB_PACKAGES=(
  libopenmpi-dev libopenmpi3 openmpi-bin openmpi-common libpmix2 libevent-core-2.1-7 libevent-pthreads-2.1-7
  libhwloc15 libfabric1 libucx0 libibverbs1 ibverbs-providers librdmacm1 libpsm2-2 libpsm-infinipath1
  libnl-3-200 libnl-route-3-200 libnuma1 libltdl7 libmunge2 libgfortran5 libxnvctrl0
  libhdf5-dev libhdf5-103-1 libhdf5-hl-100 libhdf5-cpp-103-1 libaec-dev libaec0 libsz2 libcurl4
  libnghttp2-14 librtmp1 libssh2-1 libpsl5 libbrotli1 libldap-2.5-0 libsasl2-2 libsasl2-modules-db
  libboost-program-options-dev libboost-program-options1.74-dev libboost-program-options1.74.0 libboost1.74-dev
  libspdlog-dev libspdlog1.10 libfmt-dev libfmt9 nlohmann-json3-dev
  libpng-dev libpng16-16 zlib1g-dev libjpeg-dev libjpeg62-turbo-dev libjpeg62-turbo
  libgtest-dev googletest
)

deps_only=0
bench=1
for arg in "$@"; do
  case "$arg" in
    --deps-only) deps_only=1 ;;
    --no-bench) bench=0 ;;
    --list-debs) echo "${DEB_PACKAGES[*]}"; exit 0 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu-check: unknown argument '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${SDN_BUILD_DIR:-$root/build-gpu}
OUT=${OUT:-$BUILD/gpu-check-out}
DEBS=${DEBS:-$root/.debs}
PREFIX=$DEBS/root
PYTHON=${PYTHON:-python3}
JOBS=${JOBS:-$(nproc)}
ARCH_DIR=x86_64-linux-gnu
mkdir -p "$OUT"
summary=$OUT/summary.md
step="start"

say() { echo "gpu-check: $*" | tee -a "$summary"; }
fail() {
  echo "gpu-check: FAILED at $step: $*" | tee -a "$summary" >&2
  exit 1
}
# Any command that fails without an explicit check still names the step and the command.
# shellcheck disable=SC2154  # rc is assigned inside the trap string
trap 'rc=$?; echo "gpu-check: FAILED at $step: \`$BASH_COMMAND\` exited with $rc (logs in $OUT)" | tee -a "$summary" >&2; exit $rc' ERR
# Runs "$@" with output to $OUT/$1.log (first argument: log name); on failure shows the log's tail.
logged() {
  local name=$1; shift
  if ! "$@" >"$OUT/$name.log" 2>&1; then
    tail -n 40 "$OUT/$name.log" >&2
    fail "\`$*\` failed; full log: $OUT/$name.log"
  fi
}
py() { "$PYTHON" -c "$1" 2>>"$OUT/env.txt"; }

echo "# gpu-check $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)" >"$summary"

# ---- 1. the machine
step="machine"
{
  echo "== uname"; uname -a
  echo "== os-release"; cat /etc/os-release 2>/dev/null || true
  echo "== cpus"; nproc
  echo "== nvidia-smi"; nvidia-smi 2>&1 || true
} >"$OUT/env.txt"
command -v dpkg-deb >/dev/null || fail "dpkg-deb not found: it unpacks .debs/ (Debian/Ubuntu hosts have it)"
command -v cmake >/dev/null || fail "cmake not found (3.22 or newer is needed)"
if [ "$deps_only" = 0 ]; then
  command -v "$PYTHON" >/dev/null || fail "$PYTHON not found; set PYTHON to the interpreter that has the CUDA torch"
  py 'import torch' || fail "$PYTHON cannot import torch (see $OUT/env.txt)"
  torch_version=$(py 'import torch; print(torch.__version__)')
  torch_prefix=$(py 'import torch; print(torch.utils.cmake_prefix_path)')
  torch_abi=$(py 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
  echo "== torch $torch_version, cmake prefix $torch_prefix, cxx11 abi $torch_abi" >>"$OUT/env.txt"
  [ "$torch_abi" = 1 ] || fail "torch $torch_version uses the pre-C++11 std::string ABI, the Debian libraries (spdlog, Boost) the C++11 one: use torch >= 2.7 wheels or a cxx11-ABI LibTorch"
  nvidia-smi -L >/dev/null 2>&1 || fail "nvidia-smi sees no GPU"
  torch_cuda=$(py 'import torch; print(torch.version.cuda or "")')
  [ -n "$torch_cuda" ] || fail "torch $torch_version of $PYTHON is a CPU build; install a CUDA torch"
  py 'import torch; assert torch.cuda.is_available()' || fail "torch $torch_version cannot use the GPU (driver? see $OUT/env.txt)"
  nccl_home=$(py 'import nvidia.nccl as m; print(list(m.__path__)[0])') ||
    fail "python's nvidia.nccl package not found (pip nvidia-nccl-cu12 comes with CUDA torch wheels); or set NCCL_HOME"
  nccl_home=${NCCL_HOME:-$nccl_home}
  [ -f "$nccl_home/include/nccl.h" ] || fail "$nccl_home/include/nccl.h missing: NCCL_HOME must hold include/nccl.h and lib/libnccl.so*"
  nvcc=$(command -v nvcc || true)
  if [ -z "$nvcc" ] && [ -x "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" ]; then nvcc=${CUDA_HOME:-/usr/local/cuda}/bin/nvcc; fi
  [ -n "$nvcc" ] || fail "no CUDA toolkit (nvcc): torch's CMake config and FindCUDAToolkit need it; set CUDA_HOME"
  cuda_root=$(dirname "$(dirname "$(readlink -f "$nvcc")")")
  echo "== torch cuda $torch_cuda, nvcc $nvcc ($("$nvcc" --version | tail -n 1)), NCCL_HOME $nccl_home" >>"$OUT/env.txt"
  say "machine: $(nvidia-smi -L | head -n 1); torch $torch_version (CUDA $torch_cuda); toolkit $cuda_root; NCCL $nccl_home"
fi

# ---- 2. Debian packages into the private prefix
step="debian packages"
missing=()
for p in "${DEB_PACKAGES[@]}"; do
  compgen -G "$DEBS/${p}_*.deb" >/dev/null || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] ||
  fail "missing in $DEBS: ${missing[*]}. On a Debian 12 machine: (cd $DEBS && apt-get download ${missing[*]})"
stamp=$PREFIX/.unpacked
deb_list() { find "$DEBS" -maxdepth 1 -name '*.deb' -printf '%f\n' | sort | md5sum; }
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$(deb_list)" ]; then
  rm -rf "$PREFIX"
  mkdir -p "$PREFIX"
  for deb in "$DEBS"/*.deb; do dpkg-deb -x "$deb" "$PREFIX" || fail "dpkg-deb -x $deb failed"; done
  # Absolute symlinks point into the host's /usr; re-point them into the prefix.
  while IFS= read -r link; do
    target=$(readlink "$link")
    [ -e "$PREFIX$target" ] && ln -sfn "$PREFIX$target" "$link"
  done < <(find "$PREFIX" -type l -lname '/*')
  deb_list >"$stamp"
fi
ompi=$PREFIX/usr/lib/$ARCH_DIR/openmpi
export LD_LIBRARY_PATH="$PREFIX/usr/lib/$ARCH_DIR:$PREFIX/lib/$ARCH_DIR:$ompi/lib:$PREFIX/usr/lib/$ARCH_DIR/hdf5/serial${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PATH="$PREFIX/usr/bin:$PATH"
# Open MPI and PMIx were configured for /usr: relocate them, and find their plugins in the prefix.
export OPAL_PREFIX=$PREFIX/usr
export OMPI_MCA_mca_base_component_path=$ompi/lib/openmpi3
export PMIX_MCA_mca_base_component_path=$PREFIX/usr/lib/$ARCH_DIR/pmix2/lib/pmix
export PMIX_INSTALL_PREFIX=$PREFIX/usr
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
{
  echo "== prefix $PREFIX"
  for lib in "$ompi/lib/libmpi.so" "$PREFIX/usr/lib/$ARCH_DIR/hdf5/serial/libhdf5.so" \
             "$PREFIX/usr/lib/$ARCH_DIR/libspdlog.so" "$PREFIX/usr/lib/$ARCH_DIR/libboost_program_options.so" \
             "$PREFIX/usr/lib/$ARCH_DIR/libpng16.so" "$PREFIX/usr/lib/$ARCH_DIR/libjpeg.so" \
             "$PREFIX/usr/lib/$ARCH_DIR/libfmt.so" "$PREFIX/usr/bin/orted"; do
    echo "-- $lib"; ldd "$lib"
  done
} >"$OUT/deps.txt" 2>&1 || fail "a library of the prefix is missing or unreadable (see $OUT/deps.txt)"
if grep -q "not found\|No such file" "$OUT/deps.txt"; then
  fail "unresolved libraries: $(grep 'not found\|No such file' "$OUT/deps.txt" | awk '{print $1}' | sort -u | xargs); add their Debian packages to .debs/ (see $OUT/deps.txt)"
fi
mpirun=$PREFIX/usr/bin/mpirun.openmpi
"$mpirun" --oversubscribe -np 2 true >>"$OUT/deps.txt" 2>&1 ||
  fail "the relocated Open MPI launcher does not start (see the end of $OUT/deps.txt)"
say "debian packages: ${#DEB_PACKAGES[@]} unpacked into $PREFIX; libraries resolve; mpirun -np 2 works"
if [ "$deps_only" = 1 ]; then
  say "done (--deps-only)"
  exit 0
fi

# ---- 3. configure and build
step="configure"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake_args=(
  -S "$root" -B "$BUILD" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release
  -DSDN_WITH_CUDA=ON -DSDN_WITH_NCCL=ON -DSDN_BUILD_TESTS=ON
  "-DCMAKE_PREFIX_PATH=$torch_prefix;$PREFIX/usr;$PREFIX/usr/lib/$ARCH_DIR/cmake;$PREFIX/usr/share/cmake"
  "-DCUDAToolkit_ROOT=$cuda_root" "-DCMAKE_CUDA_COMPILER=$nvcc" "-DNCCL_HOME=$nccl_home"
  # MPI without the mpicxx wrapper (it would print /usr paths): headers and libraries given directly.
  "-DMPI_CXX_HEADER_DIR=$ompi/include"
  "-DMPI_CXX_ADDITIONAL_INCLUDE_DIRS=$ompi/include;$ompi/include/openmpi"
  "-DMPI_CXX_LIBRARIES=$ompi/lib/libmpi_cxx.so;$ompi/lib/libmpi.so"
  "-DMPIEXEC_EXECUTABLE=$mpirun"
  # HDF5 without the h5cc wrapper (same reason).
  "-DHDF5_C_COMPILER_EXECUTABLE=$PREFIX/no-h5cc" "-DHDF5_C_INCLUDE_DIR=$PREFIX/usr/include/hdf5/serial"
  "-DHDF5_hdf5_LIBRARY_RELEASE=$PREFIX/usr/lib/$ARCH_DIR/hdf5/serial/libhdf5.so"
)
logged configure cmake "${cmake_args[@]}"
grep -q "SDN_WITH_NCCL:BOOL=ON" "$BUILD/CMakeCache.txt" || fail "the cache does not have SDN_WITH_NCCL=ON"
step="build"
# Only what the GPU checks run: the whole test suite is CPU-only and runs in CI.
# Only what the GPU checks run (sdn and the gpu-labelled tests): a full build with every test takes far longer.
read -r -a targets <<<"${BUILD_TARGETS:-sdn test_dist_nccl}"
logged build cmake --build "$BUILD" -j "$JOBS" --target "${targets[@]}" --target sdn test_dist_nccl
sdn=$BUILD/src/cli/sdn
[ -x "$sdn" ] || fail "$sdn was not built (see $OUT/build.log)"
say "build: $BUILD (torch $torch_version, CUDA, NCCL) ok"

# ---- 4. GPU tests
step="ctest -L gpu"
ctest --test-dir "$BUILD" -L gpu --output-on-failure >"$OUT/ctest.log" 2>&1 || {
  tail -n 60 "$OUT/ctest.log" >&2
  fail "GPU tests failed (see $OUT/ctest.log)"
}
grep -q "tests passed" "$OUT/ctest.log" || fail "ctest ran no GPU test (is test_dist_nccl registered?)"
say "ctest -L gpu: $(grep 'tests passed' "$OUT/ctest.log")"

# ---- 4b. a short training run on the GPU: CUDA device placement, NCCL reducer, checkpoint, resume
step="train on cuda"
t=$BUILD/gpu-train
rm -rf "$t"
"$sdn" synth --layout vkitti1 --out "$t/tree" --worlds 0001 --variations clone --frames 8 --width 320 --height 96 \
  --log-level warn >"$OUT/train.log" 2>&1
"$sdn" pack --src "$t/tree" --out "$t/shards" --split train --log-level warn >>"$OUT/train.log" 2>&1
train=("$mpirun" --allow-run-as-root --oversubscribe -np 1 "$sdn" train --config "$root/configs/semantic-demo.ini"
       --run-dir "$t/run" --data.shards "$t/shards" --train.device cuda --train.epochs 1
       --train.iterations_per_epoch 6 --train.log_every 2)
"${train[@]}" --stop.max_steps_this_run 3 >>"$OUT/train.log" 2>&1 && fail "first segment exited 0, expected 3"
"${train[@]}" >>"$OUT/train.log" 2>&1 || fail "resumed GPU training failed (see $OUT/train.log)"
grep -q "device cuda" "$OUT/train.log" || fail "training did not run on cuda (see $OUT/train.log)"
grep -q "resumed from" "$OUT/train.log" || fail "the second segment did not resume (see $OUT/train.log)"
say "train on cuda: 3 steps, exit 3, resume, 6 steps, exit 0 ($(grep -o 'step 6/6.*' "$OUT/train.log" | head -1))"

# ---- 5. step benchmark on the GPU, C++ vs Python on the same device
if [ "$bench" = 1 ]; then
  step="bench step"
  for arch in drn_d_22 resnet50dilated8_ppm_deepsup; do
    cmd=("$sdn" bench step --device cuda --arch "$arch" --python "$(command -v "$PYTHON")"
         --rounds "${BENCH_ROUNDS:-3}" --steps "${BENCH_STEPS:-5}" --warmup 3 --threads "$(nproc)")
    "${cmd[@]}" >"$OUT/bench-step-$arch.txt" 2>&1 || {
      tail -n 40 "$OUT/bench-step-$arch.txt" >&2
      fail "\`${cmd[*]}\` failed (see $OUT/bench-step-$arch.txt)"
    }
    { echo; echo "### sdn bench step, $arch, CUDA"; echo; cat "$OUT/bench-step-$arch.txt"; } >>"$summary"
    cat "$OUT/bench-step-$arch.txt"
  done
fi
step="done"
say "all GPU checks passed; results in $summary"
