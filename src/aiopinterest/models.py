"""Every Pinterest API v5 schema as a msgspec struct (or type alias), importable by its schema name.

``from aiopinterest.models import Pin, Board``. The four dotted schema names of the spec are exported by their last
part: ``Pinterest.Lib.Error`` -> ``Error``, ``Pinterest.Lib.PaginationOrder`` -> ``PaginationOrder``,
``Pinterest.Lib.IntegerFormatType`` -> ``IntegerFormatType``, ``Pinterest.Lib.Status204`` -> ``Status204``.
Importing this module loads all of them; ``import aiopinterest`` alone does not.
"""

from ._generated.models import *  # noqa: F403
from ._generated.models import __all__ as __all__
