"""Form fields the pages share."""

from datetime import date

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

# A day a plant can mean. The ends of Python's calendar (year 1, 9999-12-31) break the
# arithmetic around a day (the next midnight, a time zone), which was a server error.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)


class DayField(forms.DateField):
    """A date between FIRST_DAY and LAST_DAY; another one is a form error, not a 500."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        message = f"Enter a date between {FIRST_DAY:%Y-%m-%d} and {LAST_DAY:%Y-%m-%d}."
        self.validators += [
            MinValueValidator(FIRST_DAY, message=message),
            MaxValueValidator(LAST_DAY, message=message),
        ]


# A row id is a bigint; "²" (superscript two) passes str.isdigit() but is no id (int() or the
# database refuses it), and neither is a number beyond a bigint.
_MAX_ID = 2**63 - 1


def selected_ids(values) -> list[int]:
    """The ids of a bulk selection (ticked rows) that can be ids; the rest are left out."""
    ids = []
    for value in values:
        if value.isascii() and value.isdigit() and int(value) <= _MAX_ID:
            ids.append(int(value))
    return ids
