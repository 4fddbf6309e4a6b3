"""The aiopinterest generator: Pinterest's OpenAPI description -> src/aiopinterest/_generated/.

Pipeline: ``source`` finds and verifies the pinned spec and applies our overlay; ``schema`` normalises it into a
table of named schemas and the operations that use them (the intermediate model); ``typing`` maps schemas to
msgspec-decodable annotations; the ``emit_*`` modules write Python source. ``__main__`` drives it.
"""
