"""A letter in French printed in English is a letter the patient may not read: say so at
start-up (`manage.py check`, migrate, runserver) when a catalogue is not compiled."""

from pathlib import Path

from django.core import checks

LOCALE = Path(__file__).resolve().parent / "locale"


@checks.register()
def compiled_catalogues(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    problems = []
    for po in sorted(LOCALE.glob("*/LC_MESSAGES/django.po")):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            language = po.parent.parent.name
            problems.append(
                checks.Warning(
                    f"The {language} letter catalogue is not compiled: letters in that language would "
                    "print in English.",
                    hint="Run `make messages` (manage.py compilemessages; needs gettext).",
                    obj=str(mo.relative_to(LOCALE.parent.parent)),
                    id="outreach.W001",
                )
            )
    return problems
