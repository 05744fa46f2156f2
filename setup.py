"""Ship the top-level resources/ folder inside the installed package.

resources/ sits beside app/ so that PyInstaller and the source tree share one copy; a wheel needs it
inside the package, where resource_path() looks first.
"""

from pathlib import Path
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithResources(build_py):
    def run(self) -> None:
        super().run()
        source = Path(__file__).resolve().parent / "resources"
        target = Path(self.build_lib) / "llm_session_manager" / "resources"
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithResources})
