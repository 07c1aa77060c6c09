"""docs/layout.md names every module of the service and every script: a newcomer finds where a
request goes by reading it, and a new file that isn't there fails here."""

from tests.conftest import ROOT


def test_every_module_and_script_is_in_the_layout() -> None:
    layout = (ROOT / "docs" / "layout.md").read_text()
    files = [
        *(p for p in (ROOT / "api").rglob("*.py") if "migrations" not in p.parts),
        *(p for p in (ROOT / "scripts").iterdir() if p.is_file() and p.suffix in ("", ".py")),
    ]
    missing = [
        str(path.relative_to(ROOT))
        for path in files
        if path.name != "__init__.py" and f"`{path.relative_to(ROOT)}`" not in layout
    ]
    assert not missing, f"not in docs/layout.md: {missing}"
