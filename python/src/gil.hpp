#pragma once
// The GIL around trikv's calls, safe when the interpreter exits under a daemon thread.
//
// When Python finalises while a daemon thread is inside trikv, that thread is ended with
// pthread_exit the moment it next takes the GIL: inside a Python cache type's method, or as a
// binding takes the GIL back. pthread_exit unwinds the C++ stack like an exception, and
// pybind11's guards would then release a GIL the thread does not hold (a fatal error) or take
// it again while unwinding (std::terminate): the process aborted at exit. These guards step
// aside instead, and the thread ends quietly.
#include <Python.h>

#include <exception>

namespace trikv::python {

// Releases the GIL for its lifetime, as py::gil_scoped_release.
class GilReleased {
public:
    GilReleased() : state_(PyEval_SaveThread()) {}
    // noexcept(false): taking the GIL back may end the thread (pthread_exit) if Python is
    // finalising; the unwinding must be able to leave this destructor.
    ~GilReleased() noexcept(false) {
        // Already unwinding while Python finalises: taking the GIL would end the thread inside
        // this destructor, mid-unwind (terminate). The thread is ending: leave the GIL alone.
        if (std::uncaught_exceptions() > 0 && _Py_IsFinalizing()) return;
        PyEval_RestoreThread(state_);
    }
    GilReleased(const GilReleased&) = delete;
    GilReleased& operator=(const GilReleased&) = delete;

private:
    PyThreadState* state_;
};

// Holds the GIL for its lifetime, from any thread, as py::gil_scoped_acquire.
class GilHeld {
public:
    GilHeld() : state_(PyGILState_Ensure()) {}
    ~GilHeld() {
        // A thread that pthread_exit ended inside Python unwinds through here without the GIL
        // (it has no current thread state): there is nothing to release.
        if (_PyThreadState_UncheckedGet() != nullptr) PyGILState_Release(state_);
    }
    GilHeld(const GilHeld&) = delete;
    GilHeld& operator=(const GilHeld&) = delete;

private:
    PyGILState_STATE state_;
};

}  // namespace trikv::python
