"""The rules: the questions, the condition language, the loader, the engine and worked cases.

Pure Python: nothing here imports Flask, WTForms, Babel or SQLAlchemy, so the
rules can be checked, tested and proved without a web app (tests/test_layering.py).
"""
