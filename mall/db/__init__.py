"""Database backends of the project (see ``mall.db.postgresql``)."""
