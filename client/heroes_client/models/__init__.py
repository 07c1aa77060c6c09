"""Contains all the data models used in inputs/outputs"""

from .context import Context
from .deleted import Deleted
from .error_message import ErrorMessage
from .health import Health
from .health_database import HealthDatabase
from .health_detail import HealthDetail
from .health_status import HealthStatus
from .hero_create import HeroCreate
from .hero_public import HeroPublic
from .hero_update import HeroUpdate
from .http_validation_error import HTTPValidationError
from .server_error import ServerError
from .validation_error import ValidationError

__all__ = (
    "Context",
    "Deleted",
    "ErrorMessage",
    "Health",
    "HealthDatabase",
    "HealthDetail",
    "HealthStatus",
    "HeroCreate",
    "HeroPublic",
    "HeroUpdate",
    "HTTPValidationError",
    "ServerError",
    "ValidationError",
)
