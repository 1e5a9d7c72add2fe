"""Browser pages of execution, one module per page group (views, forms and reads together)."""
