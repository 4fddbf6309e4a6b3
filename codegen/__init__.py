"""The aiopinterest generator: Pinterest's OpenAPI description -> src/aiopinterest/_generated/.

Pipeline: ``source`` finds and verifies the pinned spec and applies our overlay; ``schema`` normalises it into a
table of named schemas and ``operations`` collects the operations that use them (the intermediate model);
``annotate`` maps schemas to msgspec-decodable annotations, each member carrying the imports its text needs
(``imports``, which also renders import blocks); ``plan`` names the structs and their roles, ``fields`` types
their fields; the ``emit_*`` modules write Python source and the reference docs. ``__main__`` drives it.
"""
