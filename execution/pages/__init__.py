"""Browser pages of execution, one sub-package per page group with its views, forms, filters,
the reads only it uses and its urls (docs/pages.md lists them)."""
