"""One-line TypeErrors for calls into trikv._core.

pybind11 answers a call whose argument types match no signature with the list of signatures and
the repr of every argument: with arrays, some 20,000 characters. The functions wrapped here
answer with one line naming the argument and the type it should have."""
import functools
import re

_MISMATCH = ("incompatible function arguments", "incompatible constructor arguments")
# One parameter of a pybind11 signature line: "name: type" or "name: type = default".
_PARAMETER = re.compile(r"(\w+): ([^,=()\[\]]+(?:\[[^\]]*\])?)")


def _accepts(annotation, value):
    """Whether `value` fits a pybind11 annotation, as far as one can tell without calling."""
    annotation = annotation.strip()
    if annotation.startswith("Optional["):
        return value is None or _accepts(annotation[len("Optional["):-1], value)
    if annotation == "str":
        return isinstance(value, str)
    if annotation == "int":
        return isinstance(value, int) and not isinstance(value, bool) or hasattr(value, "__index__")
    if annotation == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return True  # object, arrays, lists: checked by trikv itself


def _short(value):
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "..."


def _one_line(name, message, args, kwargs):
    lines = message.splitlines()
    # "1. (q: object, …) -> …" for a function, "1. trikv._core.Cache(spec: str, …)" for a constructor.
    first = next((line for line in lines if re.match(r"\s*1\. ", line)), "")
    signature = first[first.find("("):] if "(" in first else ""
    parameters = [(p, t) for p, t in _PARAMETER.findall(signature) if p != "self"]
    given = list(zip((p for p, _ in parameters), args)) + list(kwargs.items())
    annotations = dict(parameters)
    for parameter, value in given:
        if parameter not in annotations:
            return f"{name}(): unexpected argument '{parameter}'; expected ({', '.join(p for p, _ in parameters)})"
        if not _accepts(annotations[parameter], value):
            return (f"{name}(): {parameter}: {type(value).__name__} {_short(value)} is not "
                    f"{annotations[parameter].strip()}")
    return f"{name}(): arguments do not match ({', '.join(f'{p}: {t.strip()}' for p, t in parameters)})"


def one_line_type_errors(function, name, bound=False):
    """`function` raising pybind11's argument mismatch as a one-line TypeError; `bound`: the
    first argument is self, not matched against the signature."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except TypeError as error:
            message = str(error)
            if not any(text in message for text in _MISMATCH):
                raise
            line = _one_line(name, message, args[1:] if bound else args, kwargs)
            # The traceback keeps this frame: an unconstructed `self` in it would crash whatever
            # shows the frame's locals (pytest, IPython) by calling its methods.
            del args, kwargs
            raise TypeError(line) from None
    return wrapper
