def pytest_addoption(parser):
    # Here rather than in tests/browser/conftest.py: pytest only reads options from conftests it loads at start-up.
    parser.addoption(
        "--screenshots",
        action="store_true",
        default=False,
        help="write screenshots of key screens (1280×800) to docs/screenshots/ while the browser tests run",
    )
