"""The training corpus: the King James Bible as Debian's bible-kjv packages install it.

bible-kjv-text ships the text compressed in its own format (/usr/lib/bible.data); the `bible`
program of bible-kjv prints it. Printing every verse, Genesis 1:1 to Revelation 22:21, at a
fixed line width gives the same bytes on every machine with the same package version, and
the last HELD_OUT_FRACTION of them is the held-out part (docs/model.md).
"""
import hashlib
import os
import shutil
import subprocess

PACKAGES = ("bible-kjv", "bible-kjv-text")
WHOLE_BIBLE = "gen1:1-rev22:21"
LINE_WIDTH = 80  # `bible` wraps at $COLUMNS; fixing it fixes the bytes
HELD_OUT_FRACTION = 0.1


def install():
    """Installs the packages with apt-get when `bible` is missing, as scripts/setup.sh does."""
    if shutil.which("bible"):
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES],
                   check=True, env=env, stdout=subprocess.DEVNULL)


def text():
    """The whole corpus as bytes."""
    install()
    env = dict(os.environ, COLUMNS=str(LINE_WIDTH))
    return subprocess.run(["bible", WHOLE_BIBLE], check=True, env=env, capture_output=True).stdout


def split(corpus):
    """(train, held_out): the first 90% and the last 10% of the bytes."""
    cut = int(len(corpus) * (1 - HELD_OUT_FRACTION))
    return corpus[:cut], corpus[cut:]


def digest(corpus):
    return hashlib.sha256(corpus).hexdigest()
