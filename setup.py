"""The build behind pyproject.toml: CMake builds libtrikv, the `trikv` CLI and trikv._core, and
`cmake --install` lays them out in a scratch prefix; the wheel carries that layout unchanged:
the package into site-packages (prefix/lib/python3.X/site-packages/trikv), libtrikv.so into
prefix/lib and the CLI into prefix/bin. The relative RUNPATHs of the install (_core:
$ORIGIN/../../.., the CLI: $ORIGIN/../lib) then find libtrikv in a venv, a user site
(~/.local) or /usr/local alike.

TRIKV_CMAKE_BUILD_DIR names the CMake build directory to use (default: the checkout's build/,
configured if it is not yet, with ccache when it is installed, as docs/architecture.md's build
commands do). Nothing is written into the checkout besides that build directory."""
import atexit
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

SOURCE = os.path.dirname(os.path.abspath(__file__))
# setuptools' own build and egg-info directories: scratch, removed when the build ends.
SCRATCH = tempfile.mkdtemp(prefix="trikv-pip-")
atexit.register(shutil.rmtree, SCRATCH, ignore_errors=True)
STAGE = os.path.join(SCRATCH, "prefix")
PYTHON_DIR = f"lib/python{sys.version_info.major}.{sys.version_info.minor}/dist-packages"


def cmake_version():
    """The project's version, from CMakeLists.txt (one place for it)."""
    with open(os.path.join(SOURCE, "CMakeLists.txt")) as f:
        return re.search(r"project\(trikv VERSION ([0-9.]+)", f.read()).group(1)


def run(*command):
    print("trikv:", " ".join(command), flush=True)
    subprocess.run(command, check=True)


class CMakeBuild(build_ext):
    """Builds and installs the CMake project into STAGE, then copies the package into build_lib."""

    def run(self):
        build = os.environ.get("TRIKV_CMAKE_BUILD_DIR") or os.path.join(SOURCE, "build")
        if not os.path.exists(os.path.join(build, "CMakeCache.txt")):
            configure = ["cmake", "-S", SOURCE, "-B", build, "-DCMAKE_BUILD_TYPE=Release"]
            if shutil.which("ccache"):
                configure.append("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
            run(*configure)
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 1))
        run("cmake", "--build", build, "-j", jobs, "--target", "trikv_cli", "trikv_python")
        # The package directory the wheel expects (the default): three levels below lib/, as
        # site-packages is, so _core's RUNPATH reaches prefix/lib.
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            chosen = re.search(r"^TRIKV_PYTHON_INSTALL_DIR:\w+=(.*)$", f.read(), re.M)
        if chosen is None or chosen.group(1) != PYTHON_DIR:
            sys.exit(f"trikv: {build} installs the package elsewhere than {PYTHON_DIR} (TRIKV_PYTHON_INSTALL_DIR)")
        run("cmake", "--install", build, "--prefix", STAGE)
        package = os.path.join(STAGE, PYTHON_DIR, "trikv")
        if not os.path.exists(os.path.join(package, "__init__.py")):
            sys.exit(f"trikv: {build} built no Python package (needs pybind11-dev and python3-dev; TRIKV_PYTHON=ON)")
        target = os.path.join(self.build_lib, "trikv")
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(package, target)


def staged(pattern):
    """data_files entry for the files `pattern` will match in STAGE once CMakeBuild has run."""
    return [os.path.join(STAGE, name) for name in pattern]


setup(
    version=cmake_version(),
    packages=[],  # the package comes from the CMake install (CMakeBuild), not from discovery
    ext_modules=[Extension("trikv._core", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    # Installed relative to the environment's prefix, where the RUNPATHs expect them.
    data_files=[("lib", staged(["lib/libtrikv.so"])), ("bin", staged(["bin/trikv"])),
                ("share/trikv/gnuplot", [os.path.join(STAGE, "share/trikv/gnuplot", os.path.basename(p))
                                         for p in glob.glob(os.path.join(SOURCE, "studies/figures/gnuplot/*.gp"))])],
    options={"build": {"build_base": os.path.join(SCRATCH, "build")},
             "egg_info": {"egg_base": SCRATCH}},
    zip_safe=False,
)
