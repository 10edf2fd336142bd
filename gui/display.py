"""Find a screen for the app: the user's display, else a virtual Xvfb one, else offscreen."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path


def _has_display() -> bool:
    if sys.platform != "linux":
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _free_display_number() -> int:
    for n in range(99, 200):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number between :99 and :199")


def ensure_display() -> str:
    """Make sure Qt has somewhere to draw; return a one-line note of what was chosen ('' = as is)."""
    if os.environ.get("QT_QPA_PLATFORM") or _has_display():
        return ""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        return "no display and no Xvfb: running offscreen (nothing visible); install xvfb or set DISPLAY"
    n = _free_display_number()
    proc = subprocess.Popen(
        [xvfb, f":{n}", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    atexit.register(proc.terminate)
    for _ in range(50):
        if Path(f"/tmp/.X11-unix/X{n}").exists():
            break
        time.sleep(0.05)
    os.environ["DISPLAY"] = f":{n}"
    return f"no display found: started a virtual screen (Xvfb) on DISPLAY=:{n}"
