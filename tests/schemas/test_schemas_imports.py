"""The field catalogue stands alone: pydantic and its validators, nothing of the app."""

import subprocess
import sys


def test_catalogue_imports_no_web_database_or_domain_package() -> None:
    modules = ["calendar_types", "choice_labels", "field_catalogue", "field_errors"]
    modules += ["field_values", "text_types"]
    script = (
        "import sys\n"
        + "".join(f"import schemas.{name}\n" for name in modules)
        + "banned = ('flask', 'sqlalchemy', 'vault', 'broker', 'business_portal', 'emanet')\n"
        + "print(sorted(m for m in sys.modules if m.split('.')[0] in banned))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
