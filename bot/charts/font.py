"""The one CJK font the project draws Chinese with: Noto Sans SC (SIL OFL 1.1),
installed from PyPI as the pinned `pylopdf-fonts-zh-cn` dependency, so a fresh
`pip install -e .` brings it. No system font is assumed: matplotlib is handed
this file by its path, and the web desk serves the same file to browsers."""

from functools import cache
from pathlib import Path

import pylopdf_fonts_zh_cn


@cache
def font_path() -> Path:
    """The Noto Sans SC Regular file (.otf, OpenType/CFF, about 8 MB; GB 2312 and
    通用规范汉字表 characters, Latin and digits)."""
    path = pylopdf_fonts_zh_cn.sans_path()
    if not path.is_file():  # a broken install: say so rather than draw boxes
        raise FileNotFoundError(f"CJK font missing: {path}")
    return path
