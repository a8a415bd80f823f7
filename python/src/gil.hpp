#pragma once
// The GIL around trikv's calls, safe when the interpreter exits under a daemon thread.
//
// When Python finalises while a daemon thread is inside trikv, that thread is ended with
// pthread_exit the moment it next takes the GIL: inside a Python cache type's method, or as a
// binding takes the GIL back. pthread_exit unwinds the C++ stack like an exception; pybind11's
// guards then released a GIL the thread did not hold, took it again mid-unwind, or freed
// Python objects without it — the process aborted or crashed at exit. Here every place such a
// thread can be ended catches the unwinding at once, before any C++ destructor runs, and parks
// the thread until the process is gone.
#include <Python.h>
#include <cxxabi.h>
#include <unistd.h>

namespace trikv::python {

// Never returns: the thread waits for the process to end (Python no longer runs it).
[[noreturn]] inline void park_ended_thread() {
    for (;;) ::pause();
}

// Runs `c_api_call` (C API calls only, no C++ objects to destroy) and returns its result; a
// thread Python ends inside it is parked there.
template <class CApiCall>
auto guarded(CApiCall c_api_call) -> decltype(c_api_call()) {
    try {
        return c_api_call();
    } catch (abi::__forced_unwind&) {
        park_ended_thread();
    }
}

// Releases the GIL for its lifetime, as py::gil_scoped_release.
class GilReleased {
public:
    GilReleased() : state_(PyEval_SaveThread()) {}
    ~GilReleased() {
        guarded([this] {
            PyEval_RestoreThread(state_);
            return 0;
        });
    }
    GilReleased(const GilReleased&) = delete;
    GilReleased& operator=(const GilReleased&) = delete;

private:
    PyThreadState* state_;
};

// Holds the GIL for its lifetime, from any thread, as py::gil_scoped_acquire.
class GilHeld {
public:
    GilHeld() : state_(guarded([] { return PyGILState_Ensure(); })) {}
    ~GilHeld() { PyGILState_Release(state_); }
    GilHeld(const GilHeld&) = delete;
    GilHeld& operator=(const GilHeld&) = delete;

private:
    PyGILState_STATE state_;
};

}  // namespace trikv::python
