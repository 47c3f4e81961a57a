"""``datavask review``: a local page for deciding the pairs a run left for review.

:mod:`.server` serves it (Starlette on uvicorn, 127.0.0.1 only, Jinja2 templates with autoescape);
the order and the words come from :mod:`datavask.cleansing.review`, the decisions file is
:mod:`datavask.connectors.decisions`.
"""
