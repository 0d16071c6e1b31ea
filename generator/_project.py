"""openapi-python-client's ``Project``, writing the endpoint modules on two CPUs and auditing each as it is written.

On a large document rendering the endpoint modules is the longest step of a generation, and
reading them back to audit them (see :mod:`._audit`) took almost as long again. Both are per
module and independent, so each module is audited right after it is rendered, and the modules
are shared out between this process and a forked child (see :mod:`._fork`).

``_build_api`` below is openapi-python-client 0.29.1's own, step for step, but for the loop at
its end. openapi-python-client is pinned exactly; a test compares this copy's output with the
original's, and another fails when the original changes (so an upgrade must look here).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from openapi_python_client import Project, strings
from openapi_python_client.config import Config
from openapi_python_client.parser import GeneratorData
from openapi_python_client.parser.openapi import Endpoint
from openapi_python_client.parser.properties import Property

from ._audit import Finding, write_module
from ._fork import map_in_parallel

__all__ = ["AuditedProject"]


class AuditedProject(Project):
    """A Project whose endpoint modules get the banner, are audited, and are rendered on two CPUs."""

    def __init__(
        self, *, openapi: GeneratorData, config: Config, custom_template_path: Path, banner: str | None
    ) -> None:
        super().__init__(openapi=openapi, config=config, custom_template_path=custom_template_path)
        self.banner = banner
        self.audited: dict[str, list[Finding]] = {}
        """Findings of each module written and audited here, by path relative to the package."""

    def _build_api(self) -> None:
        # Generate Client
        client_path = self.package_dir / "client.py"
        client_template = self.env.get_template("client.py.jinja")
        client_path.write_text(client_template.render(), encoding=self.config.file_encoding)

        # Generate included Errors
        errors_path = self.package_dir / "errors.py"
        errors_template = self.env.get_template("errors.py.jinja")
        errors_path.write_text(errors_template.render(), encoding=self.config.file_encoding)

        # Generate endpoints
        api_dir = self.package_dir / "api"
        shutil.rmtree(api_dir, ignore_errors=True)
        api_dir.mkdir()
        api_init_path = api_dir / "__init__.py"
        api_init_template = self.env.get_template("api_init.py.jinja")
        api_init_path.write_text(api_init_template.render(), encoding=self.config.file_encoding)

        endpoint_collections_by_tag = self.openapi.endpoint_collections_by_tag
        endpoint_template = self.env.get_template("endpoint_module.py.jinja", globals={"isbool": _isbool})
        modules: list[tuple[Path, str, Endpoint]] = []
        for tag, collection in endpoint_collections_by_tag.items():
            tag_dir = api_dir / tag
            tag_dir.mkdir()

            endpoint_init_path = tag_dir / "__init__.py"
            endpoint_init_template = self.env.get_template("endpoint_init.py.jinja")
            endpoint_init_path.write_text(
                endpoint_init_template.render(endpoint_collection=collection),
                encoding=self.config.file_encoding,
            )

            for endpoint in collection.endpoints:
                module_path = tag_dir / f"{strings.PythonIdentifier(endpoint.name, self.config.field_prefix)}.py"
                modules.append((module_path, module_path.relative_to(self.package_dir).as_posix(), endpoint))

        # The one change: render, write and audit each module, half of them in a forked child.
        def write(module: tuple[Path, str, Endpoint]) -> list[Finding]:
            path, relative, endpoint = module
            return write_module(path, endpoint_template.render(endpoint=endpoint), relative, self.banner)

        for (_, relative, _), findings in zip(modules, map_in_parallel(write, modules), strict=True):
            self.audited[relative] = findings


def _isbool(prop: Property) -> bool:
    return prop.get_base_type_string() == strings.PythonCode("bool")
