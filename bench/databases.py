"""A throw-away PostgreSQL database for a benchmark run."""


def recreate_postgres_database(config: dict) -> None:
    """Drop and create the database named in `config` (django-environ's db_url_config)."""
    import psycopg

    admin = {
        key: value
        for key, value in {
            "host": config["HOST"],
            "port": config["PORT"],
            "user": config["USER"],
            "password": config["PASSWORD"],
        }.items()
        if value
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **admin) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{config["NAME"]}"')
        conn.execute(f'CREATE DATABASE "{config["NAME"]}"')
