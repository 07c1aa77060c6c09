from enum import StrEnum


class HealthDetail(StrEnum):
    THE_DATABASE_DOES_NOT_ANSWER = "The database does not answer"
    THE_DATABASE_IS_READ_ONLY_A_STANDBY_OR_A_ROLE_OR_DATABASE_WITH_DEFAULT_TRANSACTION_READ_ONLY_WRITES_GET_503 = "The database is read-only (a standby, or a role or database with default_transaction_read_only): writes get 503"

    def __str__(self) -> str:
        return str(self.value)
